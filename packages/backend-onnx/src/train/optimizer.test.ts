/**
 * core's optimizer subgraphs (updateParam, clipGradients), lowered to ONNX and run in onnxruntime,
 * against torch.optim's trajectories (three steps on fixed gradients) and clip_grad_norm_.
 */
import { createRequire } from 'node:module';
import { clipGradients, GraphBuilder, type OptimizerConfig, slotNames, stepNames } from '@siamese/core';
import { loadOptimizerTrajectories, optimizerUpdateGraph } from '@siamese/core/conformance';
import { describe, expect, it } from 'vitest';
import { trainingModel } from './step-model.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
const fx = await loadOptimizerTrajectories();

function updateModel(config: OptimizerConfig, size: number) {
  const graph = optimizerUpdateGraph(config, [size]);
  return trainingModel(
    graph,
    graph.outputs.map((o) => o.name),
    'optimizer update',
  );
}

describe('optimizer subgraphs in onnxruntime', () => {
  it.each(fx.cases.map((c) => [JSON.stringify(c.config), c] as const))(
    '%s matches torch.optim',
    async (_n, c) => {
      const n = fx.p0.length;
      const model = updateModel(c.config, n);
      const session = await ort.InferenceSession.create(model.bytes);
      const state = new Map<string, Float32Array>([['p', Float32Array.from(fx.p0)]]);
      for (const s of slotNames(c.config)) state.set(`p.${s}`, new Float32Array(n));
      try {
        for (const [i, grad] of fx.grads.entries()) {
          const feeds: Record<string, import('onnxruntime-node').Tensor> = {
            g: new ort.Tensor('float32', Float32Array.from(grad), [n]),
            lr: new ort.Tensor('float32', Float32Array.of(fx.lr), []),
            step: new ort.Tensor('float32', Float32Array.of(i + 1), []),
          };
          for (const name of model.stateInputs)
            feeds[name] = new ort.Tensor('float32', state.get(name)!, [n]);
          const out = await session.run(feeds);
          for (const [k] of state) {
            const next = out[stepNames.next(k)];
            if (next) state.set(k, next.data as Float32Array);
          }
          c.steps[i]!.forEach((want, j) => {
            expect(state.get('p')![j]).toBeCloseTo(want, 5);
          });
        }
      } finally {
        await session.release();
      }
    },
  );

  it('clips like clip_grad_value_ then clip_grad_norm_', async () => {
    const run = async (clip: { maxNorm?: number; maxValue?: number }, av: number[], cv: number[]) => {
      const b = new GraphBuilder('clip');
      const a = b.input('a', 'float32', [2]);
      const c = b.input('c', 'float32', [2]);
      const [x, y] = clipGradients(b, [a, c], clip);
      b.output('x', x!);
      b.output('y', y!);
      const model = trainingModel(b.build(), ['x', 'y'], 'clip');
      const session = await ort.InferenceSession.create(model.bytes);
      const out = await session.run({
        a: new ort.Tensor('float32', Float32Array.from(av), [2]),
        c: new ort.Tensor('float32', Float32Array.from(cv), [2]),
      });
      await session.release();
      return [...(out.x!.data as Float32Array), ...(out.y!.data as Float32Array)].map((v) => +v.toFixed(5));
    };
    expect(await run({ maxNorm: 1 }, [3, 0], [0, 4])).toEqual([0.6, 0, 0, 0.8]);
    expect(await run({ maxNorm: 10 }, [0.1, 0], [0.2, 0])).toEqual([0.1, 0, 0.2, 0]);
    expect(await run({ maxValue: 1 }, [-3, 0.5], [2, 0])).toEqual([-1, 0.5, 1, 0]);
    // The value clamp comes first: 4 -> 3.5, then the global norm of (3, 3.5) scales to 1.
    expect(await run({ maxValue: 3.5, maxNorm: 1 }, [3, 0], [0, 4])).toEqual([0.65079, 0, 0, 0.75926]);
  });
});

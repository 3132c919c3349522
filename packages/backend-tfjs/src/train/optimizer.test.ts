/**
 * core's optimizer subgraphs, lowered by tfjs, against torch.optim's trajectories (three steps on
 * fixed gradients): the update rules the tfjs backend trains with are core's, not its own. The
 * parameter is stored HWIO, as a conv weight and its slots are during training, to check that the
 * update keeps the layout and stays exact.
 */
import { slotNames, stepNames } from '@siamese/core';
import { loadOptimizerTrajectories, optimizerUpdateGraph } from '@siamese/core/conformance';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveDevice } from '../device.js';
import { compileGraph } from '../lower/compile.js';
import { OIHW_TO_HWIO, toIR, type Val } from '../lower/value.js';

const fx = await loadOptimizerTrajectories();
const n = fx.p0.length;
const shape = [n, 1, 1, 1];

const hwio = (data: readonly number[]): Val => ({
  t: tf.transpose(tf.tensor([...data], shape, 'float32'), OIHW_TO_HWIO),
  layout: 'hwio',
});

describe('optimizer subgraphs in tfjs', () => {
  beforeAll(() => resolveDevice('js'));

  it.each(fx.cases.map((c) => [JSON.stringify(c.config), c] as const))('%s matches torch.optim', (_n, c) => {
    // The gradient arrives HWIO, as conv2dFilterGrad gives a conv weight's: fed as state.
    const graph = optimizerUpdateGraph(c.config, shape, { gradient: 'state' });
    const outputs = graph.outputs.map((o) => o.name);
    const run = compileGraph(graph, { mode: 'train', outputs, keepLayout: outputs });
    const state = new Map<string, Val>([['p', hwio(fx.p0)]]);
    for (const s of slotNames(c.config)) state.set(stepNames.slot('p', s), hwio(new Array(n).fill(0)));
    for (const [i, grad] of fx.grads.entries()) {
      state.set('g', hwio(grad));
      const out = run.run({ lr: tf.scalar(fx.lr), step: tf.scalar(i + 1) }, state).stored;
      for (const [k] of state) {
        const next = out[stepNames.next(k)];
        if (!next) continue;
        expect(next.layout, k).toBe('hwio');
        state.set(k, next);
      }
      const p = toIR(state.get('p')!).dataSync();
      c.steps[i]!.forEach((want, j) => {
        expect(p[j]).toBeCloseTo(want, 5);
      });
    }
  });
});

/** PyTorch parity on core's siamese-tiny fixture, through IR autodiff and onnxruntime. */
import { siameseTraining, type Tensor } from '@siamese/core';
import { closeEnough, loadParityFixture, type Tolerance } from '@siamese/core/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { createOnnxBackend, type OnnxTrainingBackend } from './backend.js';

const f = await loadParityFixture('siamese-tiny');
const graph = siameseTraining(f.config, { kind: 'bce' });
const batch = { inputs: { ...f.inputs }, size: f.inputs.labels.shape[0] as number };

function expectClose(
  actual: ArrayLike<number>,
  expected: Tensor | { shape: readonly number[]; data: ArrayLike<number> },
  tol: Tolerance,
  what: string,
): void {
  const cmp = closeEnough(
    actual,
    { shape: [...expected.shape], data: Array.from(expected.data as ArrayLike<number>) },
    tol,
  );
  expect(cmp.ok, `${what}: ${cmp.message}`).toBe(true);
}

describe('siamese-tiny parity on onnxruntime (cpu)', () => {
  const backends: OnnxTrainingBackend[] = [];
  const make = async () => {
    const b = await createOnnxBackend({
      graph,
      weights: f.weights,
      device: 'cpu',
      threads: 1,
      optimizer: { kind: 'sgd' },
    });
    backends.push(b);
    return b;
  };
  afterAll(async () => {
    for (const b of backends) await b.dispose();
  });

  it('matches eval outputs and probabilities', async () => {
    const b = await make();
    const out = await b.forward('logit+embeddingA+embeddingB', batch);
    const tol = f.expected.tolerance.outputs;
    for (const k of ['logit', 'embeddingA', 'embeddingB'] as const)
      expectClose(out[k]!, f.expected.eval[k], tol, k);
    const { scores } = await b.evaluate(batch);
    expectClose(scores, f.expected.eval.probability, tol, 'probability');
  });

  it('matches train outputs, loss, running statistics and every gradient', async () => {
    const b = await make();
    const { outputs, buffers, grads, loss } = await b.gradients(batch);
    const tol = f.expected.tolerance.outputs;
    for (const k of ['logit', 'loss', 'embeddingA', 'embeddingB'] as const)
      expectClose(outputs[k]!, f.expected.train[k], tol, k);
    expect(loss).toBeCloseTo(f.expected.train.loss.data[0]!, 4);
    const floatBuffers = [...f.trainBuffers].filter(([, t]) => t.dtype === 'float32');
    expect([...buffers.keys()].sort()).toEqual(floatBuffers.map(([k]) => k).sort());
    for (const [k, want] of floatBuffers)
      expectClose(buffers.get(k)!.data, want, f.expected.tolerance.buffers, k);
    expect([...grads.keys()].sort()).toEqual([...f.grads.keys()].sort());
    for (const [k, want] of f.grads) {
      expect(grads.get(k)!.shape, k).toEqual(want.shape);
      expectClose(grads.get(k)!.data, want, f.expected.tolerance.grads, `grad ${k}`);
    }
  });

  it('takes the same plain SGD step and leaves the same buffers and counters', async () => {
    const b = await make();
    await b.step(batch, f.expected.sgd.lr);
    const w = await b.readWeights();
    for (const [k, want] of f.sgdStep)
      expectClose(w.get(k)!.data as Float32Array, want, f.expected.tolerance.sgdStep, k);
    for (const [k, want] of f.trainBuffers) {
      if (want.dtype === 'int64') expect(w.get(k)!.data[0], k).toBe(want.data[0]);
      else expectClose(w.get(k)!.data as Float32Array, want, f.expected.tolerance.buffers, k);
    }
  });
});

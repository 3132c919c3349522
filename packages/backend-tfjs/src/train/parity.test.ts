/** PyTorch parity on core's siamese-tiny fixture: eval and train outputs, BN buffers, grads, one SGD step. */

import { siameseTraining, type Tensor } from '@siamese/core';
import { closeEnough, loadParityFixture, type Tolerance } from '@siamese/core/conformance';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createTfjsBackend, type TfjsTrainingBackend } from './backend.js';

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

describe.each(['js', 'wasm'] as const)('siamese-tiny parity on %s', (device) => {
  const backends: TfjsTrainingBackend[] = [];
  const make = async (optimizer = { kind: 'sgd' as const }) => {
    const b = await createTfjsBackend({ graph, weights: f.weights, device, optimizer });
    backends.push(b);
    return b;
  };
  afterAll(() => {
    for (const b of backends) b.dispose();
  });

  it('matches eval outputs and probabilities', async () => {
    const b = await make();
    const out = await b.forward(batch, 'eval', ['logit', 'embeddingA', 'embeddingB']);
    const tol = f.expected.tolerance.outputs;
    for (const k of ['logit', 'embeddingA', 'embeddingB'] as const)
      expectClose(out[k]!.data, f.expected.eval[k], tol, k);
    const { scores } = await b.evaluate(batch);
    expectClose(scores, f.expected.eval.probability, tol, 'probability');
  });

  it('matches train outputs, loss and the running statistics after one forward', async () => {
    const b = await make();
    const out = await b.forward(batch, 'train', ['logit', 'loss', 'embeddingA', 'embeddingB']);
    const tol = f.expected.tolerance.outputs;
    for (const k of ['logit', 'loss', 'embeddingA', 'embeddingB'] as const)
      expectClose(out[k]!.data, f.expected.train[k], tol, k);
    const { buffers, grads, loss } = await b.gradients(batch);
    expect(loss).toBeCloseTo(f.expected.train.loss.data[0]!, 4);
    const floatBuffers = [...f.trainBuffers].filter(([, t]) => t.dtype === 'float32');
    expect([...buffers.keys()].sort()).toEqual(floatBuffers.map(([k]) => k).sort());
    for (const [k, want] of floatBuffers)
      expectClose(buffers.get(k)!.data, want, f.expected.tolerance.buffers, k);
    expect([...grads.keys()]).toEqual([...f.grads.keys()]);
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

  it('runs on the requested backend', () => {
    expect(tf.getBackend()).toBe(device === 'js' ? 'cpu' : 'wasm');
  });
});

/** The parity fixture agrees with the IR on structure, so backends can compare values alone. */
import { describe, expect, it } from 'vitest';
import type { Graph, Shape } from '../ir/types.js';
import { siamese, siameseTraining } from '../nn/siamese.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkWeights } from '../weights/check.js';
import { type ConformanceTensor, loadParityFixture, PARITY_MODELS } from './index.js';

const N = 4;
const f = await loadParityFixture();
const inference = siamese(f.config);
const training = siameseTraining(f.config, { kind: 'bce' });

const bound = (shape: Shape): number[] => shape.map((d) => (d === 'N' ? N : (d as number)));

function outputShape(g: Graph, name: string): number[] {
  const out = g.outputs.find((o) => o.name === name);
  const type = out && g.values[out.value];
  if (type === undefined) throw new Error(`${g.name} has no output '${name}'`);
  return bound(type.shape);
}

const values = (t: Tensor): number[] => [...t.data].map(Number);

describe('parity fixture siamese-tiny', () => {
  it('is the default and only model, made by the generator from the documented config', () => {
    expect(f.name).toBe(PARITY_MODELS[0]);
    expect(f.expected.generator).toBe('tools/reference/parity_fixture.py');
    expect(f.expected.torch).toMatch(/^1\.13\./);
    expect(f.config).toEqual({
      encoder: 'resnet10_w8',
      input: { channels: 1, height: 32, width: 32 },
      combine: 'absdiff',
      head: { hidden: [16], dropout: 0 },
    });
  });

  it('has weights that match siamese(config) exactly: names, dtypes, shapes, counters included', () => {
    expect(() => checkWeights(inference, f.weights)).not.toThrow();
    // state_dict order is the IR's declaration order: a file written from either reads the same.
    expect([...f.weights.keys()]).toEqual(inference.params.map((p) => p.name));
  });

  it('declares the same parameters in the inference and training graphs', () => {
    expect(training.params.map((p) => [p.name, p.dtype, p.shape, p.trainable])).toEqual(
      inference.params.map((p) => [p.name, p.dtype, p.shape, p.trainable]),
    );
  });

  it('has a float32 gradient for exactly the trainable parameters of the training graph', () => {
    const trainable = training.params.filter((p) => p.trainable);
    expect([...f.grads.keys()]).toEqual(trainable.map((p) => p.name));
    for (const p of trainable) expect(f.grads.get(p.name)?.shape, p.name).toEqual(p.shape);
  });

  it('has train buffers for exactly the non-trainable tensors, each counter advanced twice', () => {
    const buffers = training.params.filter((p) => !p.trainable);
    expect([...f.trainBuffers.keys()]).toEqual(buffers.map((p) => p.name));
    for (const p of buffers) {
      const after = f.trainBuffers.get(p.name);
      const before = f.weights.get(p.name);
      expect([after?.dtype, after?.shape], p.name).toEqual([p.dtype, p.shape]);
      if (after === undefined || before === undefined) continue;
      if (p.dtype === 'int64') {
        // One forward runs each side through the shared encoder: two updates.
        expect(after.data[0], p.name).toBe((before.data[0] as bigint) + 2n);
      } else {
        expect(values(after), p.name).not.toEqual(values(before));
      }
    }
  });

  it('has inputs of the graph input shapes for N = 4, labels both 0 and 1', () => {
    for (const [name, t] of Object.entries(f.inputs)) {
      const input = training.inputs.find((i) => i.name === name);
      expect(t.shape, name).toEqual(bound(input?.shape ?? []));
    }
    expect(new Set(f.inputs.labels.data)).toEqual(new Set([0, 1]));
  });

  it('has expected outputs of the IR output shapes for N = 4', () => {
    const check = (g: Graph, outputs: Readonly<Record<string, ConformanceTensor>>): void => {
      expect(Object.keys(outputs).sort()).toEqual(g.outputs.map((o) => o.name).sort());
      for (const [name, t] of Object.entries(outputs)) {
        expect(t.shape, name).toEqual(outputShape(g, name));
        expect(t.data.length, name).toBe(t.shape.reduce((a, b) => a * b, 1));
        expect(t.data.every(Number.isFinite), name).toBe(true);
      }
    };
    check(inference, f.expected.eval);
    check(training, f.expected.train);
  });

  it('has eval probability = sigmoid(logit) and train loss = mean BCE of the train logits', () => {
    const { logit, probability } = f.expected.eval;
    logit.data.forEach((z, i) => {
      expect(probability.data[i]).toBeCloseTo(1 / (1 + Math.exp(-z)), 7);
    });
    const t = f.inputs.labels.data;
    const bce = f.expected.train.logit.data.map(
      (z, i) => Math.max(z, 0) - z * (t[i] as number) + Math.log1p(Math.exp(-Math.abs(z))),
    );
    expect(f.expected.train.loss.data[0]).toBeCloseTo(bce.reduce((a, b) => a + b, 0) / bce.length, 6);
  });

  it('has an SGD step of weight - lr * grad over the trainable parameters, and positive tolerances', () => {
    expect(f.expected.sgd).toEqual({ lr: 0.1, momentum: 0 });
    expect([...f.sgdStep.keys()]).toEqual([...f.grads.keys()]);
    const name = 'head.3.bias';
    const [w, g, s] = [f.weights.get(name), f.grads.get(name), f.sgdStep.get(name)];
    expect(s?.data[0]).toBe(Math.fround(Number(w?.data[0]) - 0.1 * Number(g?.data[0])));
    for (const tol of Object.values(f.expected.tolerance)) {
      expect(tol.atol).toBeGreaterThan(0);
      expect(tol.rtol).toBeGreaterThan(0);
    }
  });
});

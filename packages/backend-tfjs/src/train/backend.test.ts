/** The tfjs TrainingBackend on tiny models: no leaks, checkpoints round-trip, scores per loss. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allocate,
  type Batch,
  defaultPreprocessing,
  type LossConfig,
  Random,
  type SiameseConfig,
  siamese,
  siameseTraining,
  train,
} from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTfjsBackend } from './backend.js';

const config: SiameseConfig = {
  encoder: 'resnet10_w8',
  input: { channels: 1, height: 8, width: 8 },
  head: { hidden: [8], dropout: 0.5 },
};

function batch(seed: number, n = 4, names = ['x1', 'x2']): Batch {
  const r = new Random(seed);
  const inputs: Record<string, ReturnType<typeof allocate<'float32'>>> = {};
  for (const name of names) {
    const t = allocate('float32', [n, 1, 8, 8]);
    for (let i = 0; i < t.data.length; i++) t.data[i] = r.normal();
    inputs[name] = t;
  }
  const labels = allocate('float32', [n, 1]);
  for (let i = 0; i < n; i++) labels.data[i] = i % 2;
  return { inputs: { ...inputs, labels }, size: n };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'siamese-tfjs-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('TfjsTrainingBackend', () => {
  it('leaks no tensors: the count after step 2 equals the count after step 200', async () => {
    const graph = siameseTraining(config, { kind: 'bce' });
    const b = await createTfjsBackend({
      graph,
      device: 'wasm',
      optimizer: { kind: 'adamw' },
      clip: { maxNorm: 1 },
    });
    const data = batch(1);
    let after2 = 0;
    for (let i = 1; i <= 200; i++) {
      await b.step(data, 1e-3);
      if (i === 2) after2 = tf.memory().numTensors;
      if (i % 50 === 0) await b.evaluate(data);
    }
    expect(tf.memory().numTensors).toBe(after2);
    const before = tf.memory().numTensors;
    b.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });

  it('resumes through core train(): the same weights and optimizer state as an uninterrupted run', async () => {
    const graph = siameseTraining(config, { kind: 'bce' });
    const model = { graph: siamese(config), config, preprocessing: defaultPreprocessing(config.input) };
    const data = {
      train: (e: number) => [batch(10 + e), batch(20 + e)],
      stepsPerEpoch: 2,
      validation: () => [batch(99)],
    };
    const opts = { model, data, lr: { lr: 1e-2, schedule: { kind: 'constant' as const } } };
    const make = () =>
      createTfjsBackend({
        graph,
        device: 'js',
        seed: 3,
        optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true },
      });
    const straight = await make();
    await train({ ...opts, backend: straight, epochs: 3 });
    const first = await make();
    await train({ ...opts, backend: first, epochs: 1, checkpoint: { dir } });
    const second = await make();
    const r = await train({ ...opts, backend: second, epochs: 3, checkpoint: { dir }, resume: true });
    expect(r.steps).toBe(6);
    const [a, c] = [await straight.readWeights(), await second.readWeights()];
    for (const [k, t] of a) {
      if (t.dtype === 'int64') expect(c.get(k)!.data[0], k).toBe(t.data[0]);
      else
        [...t.data].forEach((v, i) => {
          expect(c.get(k)!.data[i] as number, k).toBeCloseTo(v as number, 5);
        });
    }
    const [sa, sc] = [await straight.readOptimizerState(), await second.readOptimizerState()];
    expect(sc.step).toBe(sa.step);
    expect([...sc.slots.keys()].sort()).toEqual([...sa.slots.keys()].sort());
    expect(sa.slots.get('encoder.conv1.weight.momentum_buffer')!.shape).toEqual([8, 1, 7, 7]);
    for (const b of [straight, first, second]) b.dispose();
  });

  it('drops out only in training, with masks drawn from (seed, step), and evaluates deterministically', async () => {
    const graph = siameseTraining(config, { kind: 'bce' });
    const b = await createTfjsBackend({ graph, device: 'js' });
    const other = await createTfjsBackend({ graph, device: 'js', seed: 1, weights: await b.readWeights() });
    const data = batch(5);
    const t1 = await b.forward(data, 'train', ['logit']);
    const t2 = await b.forward(data, 'train', ['logit']);
    const t3 = await other.forward(data, 'train', ['logit']);
    expect([...t1.logit!.data]).toEqual([...t2.logit!.data]);
    expect([...t1.logit!.data]).not.toEqual([...t3.logit!.data]);
    other.dispose();
    const e1 = await b.evaluate(data);
    const e2 = await b.evaluate(data);
    expect([...e1.scores]).toEqual([...e2.scores]);
    expect(e1.loss).toBeGreaterThan(0);
    for (const s of e1.scores) expect(s > 0 && s < 1).toBe(true);
    b.dispose();
  });

  it.each([
    [{ kind: 'contrastive', margin: 1 }, 'distance'],
    [{ kind: 'triplet', margin: 1 }, 'embedding'],
  ] as const)('%j scores pairs by negated distance', async (loss: LossConfig, _scores: string) => {
    const graph = siameseTraining({ ...config, combine: 'euclidean' }, loss);
    const b = await createTfjsBackend({ graph, device: 'js' });
    const names = loss.kind === 'triplet' ? ['anchor', 'positive', 'negative'] : ['x1', 'x2'];
    const s = await b.step(batch(6, 4, names), 1e-3);
    expect(Number.isFinite(s.loss)).toBe(true);
    const same = batch(7);
    const pair = { ...same, inputs: { ...same.inputs, x2: same.inputs.x1! } };
    const { scores } = await b.evaluate(pair);
    for (const v of scores) expect(v).toBeLessThanOrEqual(0);
    for (const v of scores) expect(v).toBeGreaterThan(-1e-3);
    b.dispose();
  });

  it('rejects optimizer state it cannot use, and use after dispose', async () => {
    const graph = siameseTraining(config, { kind: 'bce' });
    const b = await createTfjsBackend({ graph, device: 'js', optimizer: { kind: 'sgd' } });
    await expect(
      b.writeOptimizerState({
        step: 1,
        slots: new Map([['head.0.weight.exp_avg', allocate('float32', [8, 8])]]),
      }),
    ).rejects.toThrow(/does not use/);
    b.dispose();
    await expect(b.step(batch(1), 1)).rejects.toThrow(/after dispose/);
  });
});

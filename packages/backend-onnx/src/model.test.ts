import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPreprocessing, type ModelArtifact, saveModel, siamese, type Tensor } from '@siamese/core';
import { closeEnough, loadParityFixture, type ParityFixture } from '@siamese/core/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceError } from './device.js';
import { InputError } from './images.js';
import { OnnxSiamese } from './model.js';

let fx: ParityFixture;
let artifact: ModelArtifact;
let model: OnnxSiamese;
let dir: string;

beforeAll(async () => {
  fx = await loadParityFixture();
  const graph = siamese(fx.config);
  artifact = {
    graph,
    config: fx.config,
    preprocessing: defaultPreprocessing(fx.config.input),
    threshold: { probability: 0.5, method: 'fixed' },
    weights: fx.weights,
  };
  model = await OnnxSiamese.fromArtifact(artifact, { device: 'cpu', threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'siamese-onnx-'));
});
afterAll(async () => {
  await model.dispose();
  await rm(dir, { recursive: true, force: true });
});

function expectClose(
  actual: ArrayLike<number>,
  expected: { shape: readonly number[]; data: readonly number[] },
): void {
  const c = closeEnough(actual, expected, fx.expected.tolerance.outputs);
  expect(c.ok, c.message).toBe(true);
}

const slice = (t: Tensor, from: number, to: number): Tensor => {
  const item = (t.shape as number[]).slice(1).reduce((a, b) => a * b, 1);
  return {
    dtype: 'float32',
    shape: [to - from, ...t.shape.slice(1)],
    data: (t.data as Float32Array).slice(from * item, to * item),
  };
};

describe('OnnxSiamese', () => {
  it('matches PyTorch: logits, probabilities and embeddings of the parity model', async () => {
    const { x1, x2 } = fx.inputs;
    const s = await model.score(x1, x2);
    expectClose(s.logit, fx.expected.eval.logit);
    expectClose(s.probability, fx.expected.eval.probability);
    expect(s.same).toEqual(Array.from(s.probability, (p) => p >= 0.5));
    expectClose((await model.embed(x1)).data, fx.expected.eval.embeddingA);
    expectClose((await model.embed(x2)).data, fx.expected.eval.embeddingB);
  });

  it('scores stored embeddings with the head alone, exactly like whole pairs', async () => {
    const { x1, x2 } = fx.inputs;
    const fromEmbeddings = await model.scoreEmbeddings(await model.embed(x1), await model.embed(x2));
    const whole = await model.score(x1, x2);
    for (let i = 0; i < 4; i++) expect(fromEmbeddings.logit[i]).toBeCloseTo(whole.logit[i]!, 5);
  });

  it('is symmetric for absdiff and splits large batches without changing results', async () => {
    const { x1, x2 } = fx.inputs;
    const ab = await model.score(x1, x2);
    const ba = await model.score(x2, x1);
    for (let i = 0; i < 4; i++) expect(ba.logit[i]).toBeCloseTo(ab.logit[i]!, 5);
    const small = await OnnxSiamese.fromArtifact(artifact, { device: 'cpu', batchSize: 3 });
    const chunked = await small.score(x1, x2);
    for (let i = 0; i < 4; i++) expect(chunked.logit[i]).toBeCloseTo(ab.logit[i]!, 5);
    const one = await small.score(slice(x1, 2, 3), slice(x2, 2, 3));
    expect(one.logit[0]).toBeCloseTo(ab.logit[2]!, 5);
    await small.dispose();
  });

  it('runs the head in chunks of headBatchSize, with the same scores', async () => {
    const ea = await model.embed(fx.inputs.x1);
    const eb = await model.embed(fx.inputs.x2);
    const whole = await model.scoreEmbeddings(ea, eb);
    const chunked = await OnnxSiamese.fromArtifact(artifact, { device: 'cpu', headBatchSize: 3 });
    const logit = (await chunked.scoreEmbeddings(ea, eb)).logit;
    for (let i = 0; i < 4; i++) expect(logit[i]).toBeCloseTo(whole.logit[i]!, 6);
    await chunked.dispose();
    await expect(OnnxSiamese.fromArtifact(artifact, { headBatchSize: 0 })).rejects.toThrow(
      /headBatchSize must be a positive integer, got 0/,
    );
  });

  it('loads a model folder', async () => {
    await saveModel(join(dir, 'm'), artifact);
    const loaded = await OnnxSiamese.load(join(dir, 'm'), { device: 'cpu' });
    const s = await loaded.score(fx.inputs.x1, fx.inputs.x2);
    expectClose(s.logit, fx.expected.eval.logit);
    expect(loaded.threshold).toEqual({ probability: 0.5, method: 'fixed' });
    await loaded.dispose();
  });

  it('rejects bad input with one clear line', async () => {
    const { x1 } = fx.inputs;
    const rgb: Tensor = { dtype: 'float32', shape: [4, 3, 32, 32], data: new Float32Array(4 * 3 * 32 * 32) };
    const big: Tensor = { dtype: 'float32', shape: [4, 1, 64, 64], data: new Float32Array(4 * 64 * 64) };
    await expect(model.score(x1, rgb)).rejects.toThrow(
      /b has 3 channels but the model takes 1 \(grayscale\)/,
    );
    await expect(model.score(big, x1)).rejects.toThrow(
      /a is 64x64 but the model takes 32x32 images; resize first/,
    );
    await expect(model.score(x1, slice(x1, 0, 2))).rejects.toThrow(/a has 4 items but b has 2/);
    await expect(
      model.embed({ dtype: 'int32', shape: [1, 1, 32, 32], data: new Int32Array(1024) }),
    ).rejects.toThrow(InputError);
    await expect(
      model.embed({ dtype: 'float32', shape: [1, 1, 32, 32], data: new Float32Array(10) }),
    ).rejects.toThrow(/has 10 values/);
    await expect(model.scoreEmbeddings(x1, x1)).rejects.toThrow(/embeddingA must have shape \[N, 64\]/);
  });

  it('reports the device: cpu when asked, and never falls back when CUDA is asked strictly', async () => {
    expect(await model.device()).toEqual({
      requested: 'cpu',
      provider: 'cpu',
      attempts: [{ provider: 'cpu', ok: true }],
    });
    const strict = await OnnxSiamese.fromArtifact(artifact, { device: 'cuda' }).catch((e: unknown) => e);
    if (strict instanceof OnnxSiamese) {
      // A machine with CUDA 12 + cuDNN 9 and the CUDA provider installed.
      expect((await strict.device()).provider).toBe('cuda');
      await strict.dispose();
    } else {
      expect(strict).toBeInstanceOf(DeviceError);
      expect((strict as Error).message).toMatch(/device 'cuda' is not available: .*CUDA 12\.x and cuDNN 9/);
      const auto = await OnnxSiamese.fromArtifact(artifact, { device: 'auto' });
      const report = await auto.device();
      expect(report.provider).toBe('cpu');
      expect(report.attempts.map((a) => [a.provider, a.ok])).toEqual([
        ['cuda', false],
        ['cpu', true],
      ]);
      await auto.dispose();
    }
  });
});

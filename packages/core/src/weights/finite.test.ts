import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initWeights } from '../nn/init.js';
import { siamese } from '../nn/siamese.js';
import type { Tensor } from '../tensor/tensor.js';
import { WeightsError } from './errors.js';
import { loadWeights, saveWeights } from './file.js';
import { checkFinite, firstNonFinite } from './finite.js';

describe('NaN and Inf in weights', () => {
  it('finds the first one, and nothing in finite data', () => {
    expect(firstNonFinite(Float32Array.from([0, -1, 3.4e38, 1e-45]))).toBeUndefined();
    expect(firstNonFinite(Float32Array.from([0, Number.POSITIVE_INFINITY, Number.NaN]))).toEqual({
      index: 1,
      value: Number.POSITIVE_INFINITY,
    });
  });

  it('checks float tensors only (BatchNorm counters are int64)', () => {
    const counter: Tensor = { dtype: 'int64', shape: [], data: BigInt64Array.from([-1n]) };
    const bad: Tensor = { dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, 2, 3, Number.NaN]) };
    expect(() => checkFinite(new Map([['bn1.num_batches_tracked', counter]]))).not.toThrow();
    expect(() => checkFinite(new Map([['w', bad]]), 'w.safetensors')).toThrow(
      "weights: w.safetensors: tensor 'w' has NaN at index 3",
    );
  });

  it('are refused by loadWeights with a graph, and read as they are without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'siamese-finite-'));
    try {
      const graph = siamese({ encoder: 'resnet10_w8', input: { channels: 1, height: 16, width: 16 } });
      const weights = initWeights(graph, 0);
      (weights.get('encoder.bn1.weight')!.data as Float32Array)[5] = Number.POSITIVE_INFINITY;
      const file = join(dir, 'w.safetensors');
      await saveWeights(file, weights);
      const err = await loadWeights(file, graph).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WeightsError);
      expect((err as WeightsError).message).toBe(
        `weights: ${file}: tensor 'encoder.bn1.weight' has Infinity at index 5`,
      );
      expect((err as WeightsError).tensor).toBe('encoder.bn1.weight');
      expect((await loadWeights(file)).tensors.size).toBe(weights.size);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The README's example, run on the Omniglot-style fixture (so the README stays true). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@siamese/core';
import { expect, it } from 'vitest';
import {
  episodeCorrect,
  episodePairs,
  imageFolder,
  KOCH_AFFINE,
  Loader,
  PairSampler,
  preprocessingFor,
  readManifest,
  splitDataset,
  take,
  withinGroupEpisodes,
  writeManifest,
} from './index.js';

const FIX = fileURLToPath(new URL('./__fixtures__/', import.meta.url));

/** A stand-in model: negative mean absolute pixel difference. */
function yourModel(x1: Tensor<'float32'>, x2: Tensor<'float32'>): Float32Array {
  const n = x1.shape[0] as number;
  const per = x1.data.length / n;
  return Float32Array.from({ length: n }, (_, i) => {
    let d = 0;
    for (let k = i * per; k < (i + 1) * per; k++)
      d += Math.abs((x1.data[k] as number) - (x2.data[k] as number));
    return -d / per;
  });
}

it('the README example runs', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'siamese-readme-'));
  try {
    const dataset = await imageFolder(`${FIX}omniglot`);
    // Seed 1 (as in the README) holds out Beta: 20 characters, enough for 20-way runs.
    const split = splitDataset(dataset, { by: 'group', seed: 1, fractions: { train: 2, test: 1 } });
    expect(split.test.groups).toEqual(['Beta']);
    await writeManifest(join(tmp, 'split.json'), split.manifest);
    expect(await readManifest(join(tmp, 'split.json'))).toEqual(split.manifest);

    const preprocessing = preprocessingFor(1, 105, 105);
    const loader = new Loader(split.train, { preprocessing, augment: KOCH_AFFINE, seed: 1 });
    const sampler = new PairSampler(split.train, { seed: 1 });
    let batches = 0;
    for await (const batch of loader.pairBatches(take(sampler, 32, 3), { train: true })) {
      expect(batch.x1.shape).toEqual([32, 1, 105, 105]);
      expect(batch.labels.shape).toEqual([32, 1]);
      batches++;
    }
    expect(batches).toBe(3);

    const evalLoader = new Loader(split.test, { preprocessing });
    const { episodes } = withinGroupEpisodes(split.test, { seed: 2 });
    let correct = 0;
    for (const episode of episodes) {
      const batch = await evalLoader.pairBatch(episodePairs(episode));
      correct += episodeCorrect(episode, yourModel(batch.x1, batch.x2));
    }
    const accuracy = correct / (episodes.length * 20);
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(1);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

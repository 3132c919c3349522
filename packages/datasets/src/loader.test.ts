import { fileURLToPath } from 'node:url';
import { GRAY_MEAN, GRAY_STD } from '@siamese/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunks, take } from './batch-lists.js';
import type { Dataset, Pair } from './dataset.js';
import { DatasetError } from './errors.js';
import { Loader } from './loader.js';
import { PairSampler } from './samplers/pairs.js';
import { imageFolder } from './sources/image-folder.js';
import { mnist } from './sources/mnist.js';
import { KOCH_AFFINE } from './transforms/augment-options.js';
import { preprocessingFor } from './transforms/resize-normalize.js';

const FIX = fileURLToPath(new URL('./__fixtures__/', import.meta.url));
const gray32 = preprocessingFor(1, 32, 32);

describe('Loader', () => {
  let omniglot: Dataset;
  beforeAll(async () => {
    omniglot = await imageFolder(`${FIX}omniglot`);
  });

  it('makes float32 NCHW pair batches, normalized by the preprocessing, labels [N, 1]', async () => {
    const loader = new Loader(omniglot, { preprocessing: gray32 });
    const pairs = new PairSampler(omniglot, { seed: 1 }).next(6);
    const b = await loader.pairBatch(pairs);
    expect(b.x1.shape).toEqual([6, 1, 32, 32]);
    expect(b.x2.shape).toEqual([6, 1, 32, 32]);
    expect(b.x1.dtype).toBe('float32');
    expect(b.labels.shape).toEqual([6, 1]);
    expect(Array.from(b.labels.data)).toEqual(pairs.map((p) => p.same));
    // White background: (1 - mean) / std; black ink: (0 - mean) / std.
    const white = (1 - (GRAY_MEAN[0] as number)) / (GRAY_STD[0] as number);
    expect(Math.max(...b.x1.data)).toBeCloseTo(white, 5);
    expect(Math.min(...b.x1.data)).toBeLessThan(0);
    // Row k of x1 is item pairs[k].a.
    const single = await loader.imageBatch([pairs[3]?.a as number]);
    expect(Array.from(b.x1.data.subarray(3 * 1024, 4 * 1024))).toEqual(Array.from(single.x.data));
    expect(Array.from(single.labels.data)).toEqual([omniglot.items[pairs[3]?.a as number]?.label]);
  });

  it('RGB batches use ImageNet statistics by default', async () => {
    const ds = await imageFolder(`${FIX}folder`);
    const loader = new Loader(ds, { preprocessing: preprocessingFor(3, 16, 16) });
    const b = await loader.imageBatch([0, 4, 7]);
    expect(b.x.shape).toEqual([3, 3, 16, 16]);
    // Top-left corner of circle-1 is white: (1 - 0.485) / 0.229 in the R plane.
    expect(b.x.data[0]).toBeCloseTo((1 - 0.485) / 0.229, 4);
    expect(b.x.data[256]).toBeCloseTo((1 - 0.456) / 0.224, 4);
  });

  it('never augments evaluation batches; training batches are augmented, the same way for the same seed', async () => {
    const pairs = new PairSampler(omniglot, { seed: 2 }).next(8);
    const plain = await new Loader(omniglot, { preprocessing: gray32 }).pairBatch(pairs);
    const always = { rotation: { degrees: 15, p: 1 }, translate: { pixels: 3, p: 1 } };
    const aug = new Loader(omniglot, { preprocessing: gray32, augment: always, seed: 1 });
    const evalBatch = await aug.pairBatch(pairs); // default: evaluation
    expect(evalBatch.x1.data).toEqual(plain.x1.data);
    expect((await aug.pairBatch(pairs, { train: false })).x2.data).toEqual(plain.x2.data);
    const train = await aug.pairBatch(pairs, { train: true });
    expect(train.x1.data).not.toEqual(plain.x1.data);
    const again = await new Loader(omniglot, { preprocessing: gray32, augment: always, seed: 1 }).pairBatch(
      pairs,
      { train: true },
    );
    expect(again.x1.data).toEqual(train.x1.data);
    expect(again.x2.data).toEqual(train.x2.data);
    const other = await new Loader(omniglot, { preprocessing: gray32, augment: always, seed: 2 }).pairBatch(
      pairs,
      { train: true },
    );
    expect(other.x1.data).not.toEqual(train.x1.data);
    // Probabilities 0: training batches equal evaluation ones.
    const off = new Loader(omniglot, { preprocessing: gray32, augment: { rotation: { degrees: 10, p: 0 } } });
    expect((await off.pairBatch(pairs, { train: true })).x1.data).toEqual(plain.x1.data);
  });

  it('prefetches: while batch k is consumed, the next `prefetch` batches are already decoding', async () => {
    const loader = new Loader(omniglot, { preprocessing: gray32, prefetch: 2, cacheBytes: 0 });
    const sampler = new PairSampler(omniglot, { seed: 3 });
    const it = loader.pairBatches(take(sampler, 4, 6), { train: true });
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(loader.stats().batchesStarted).toBe(3); // the one handed over + 2 ahead
    // The "trainer" works on batch 0 without pulling; batches 1 and 2 finish decoding meanwhile.
    for (let t = 0; t < 500 && loader.stats().batchesDone < 3; t++)
      await new Promise((r) => setTimeout(r, 10));
    expect(loader.stats().batchesDone).toBe(3);
    expect(loader.stats().batchesStarted).toBe(3); // and nothing beyond the prefetch depth
    let n = 1;
    for await (const b of it) {
      expect(b.x1.shape[0]).toBe(4);
      n++;
    }
    expect(n).toBe(6);
    expect(loader.stats().batchesStarted).toBe(6);
  });

  it('batches from a stream equal batches made one by one (augmentation does not depend on timing)', async () => {
    const o = { preprocessing: gray32, augment: KOCH_AFFINE, seed: 9 };
    const lists = new PairSampler(omniglot, { seed: 4 }).next(24);
    const streamed: Float32Array[] = [];
    for await (const b of new Loader(omniglot, { ...o, prefetch: 3 }).pairBatches(chunks(lists, 6), {
      train: true,
    })) {
      streamed.push(b.x1.data, b.x2.data);
    }
    const direct = new Loader(omniglot, { ...o, prefetch: 0 });
    const one: Float32Array[] = [];
    for (const c of chunks(lists, 6)) {
      const b = await direct.pairBatch(c, { train: true });
      one.push(b.x1.data, b.x2.data);
    }
    expect(streamed).toEqual(one);
  });

  it('caches decoded images within the byte budget, evicting the least recent', async () => {
    const perImage = 32 * 32; // 8-bit grayscale
    const loader = new Loader(omniglot, { preprocessing: gray32, cacheBytes: 5 * perImage });
    for (let i = 0; i < 20; i++) {
      await loader.image(i);
      expect(loader.stats().cacheBytes).toBeLessThanOrEqual(5 * perImage);
    }
    let s = loader.stats();
    expect([s.decoded, s.cacheEntries, s.cacheBytes, s.evictions]).toEqual([20, 5, 5 * perImage, 15]);
    await loader.image(19); // still cached
    await loader.image(0); // evicted: decoded again
    s = loader.stats();
    expect([s.decoded, s.cacheHits]).toEqual([21, 1]);
    // The same image asked for twice at once is decoded once.
    const fresh = new Loader(omniglot, { preprocessing: gray32 });
    const [a, b] = await Promise.all([fresh.image(3), fresh.image(3)]);
    expect(a).toBe(b);
    expect(fresh.stats().decoded).toBe(1);
  });

  it('MNIST: in-memory pixels, resized to the model size', async () => {
    const ds = await mnist({ perClass: 3 });
    const loader = new Loader(ds, { preprocessing: preprocessingFor(1, 105, 105) });
    const b = await loader.imageBatch([0, 3, 29]);
    expect(b.x.shape).toEqual([3, 1, 105, 105]);
    expect(Array.from(b.labels.data)).toEqual([0, 1, 9]);
    const native = new Loader(ds, { preprocessing: preprocessingFor(1, 28, 28) });
    const n = await native.imageBatch([0]);
    const bg = (0 - (GRAY_MEAN[0] as number)) / (GRAY_STD[0] as number);
    expect(n.x.data[0]).toBeCloseTo(bg, 5);
  });

  it('triplet batches', async () => {
    const loader = new Loader(omniglot, { preprocessing: gray32 });
    const t = await loader.tripletBatch([
      { anchor: 0, positive: 1, negative: 5 },
      { anchor: 6, positive: 7, negative: 0 },
    ]);
    expect([t.anchor.shape, t.positive.shape, t.negative.shape]).toEqual([
      [2, 1, 32, 32],
      [2, 1, 32, 32],
      [2, 1, 32, 32],
    ]);
    expect(t.negative.data.subarray(1024)).toEqual(t.anchor.data.subarray(0, 1024));
  });

  it('a file that breaks during training fails the batch with its name', async () => {
    const broken = await imageFolder(`${FIX}broken`, { check: 'none' });
    const loader = new Loader(broken, { preprocessing: gray32 });
    const bad = broken.items.findIndex((i) => i.id === 'bad/truncated.png');
    const pairs: Pair[] = [{ a: 0, b: bad, same: 0 }];
    const e = await loader.pairBatch(pairs).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as Error).message).toMatch(/broken\/bad\/truncated\.png: corrupt or truncated image/);
    // In a stream too, and an early failure of a batch decoded ahead is not "unhandled".
    const stream = loader.pairBatches([pairs, pairs]);
    await expect(stream.next()).rejects.toThrow('truncated.png');
    await expect(loader.image(999)).rejects.toThrow("dataset: loader: item 999 is outside '");
  });

  it('rejects bad options in one line', () => {
    expect(() => new Loader(omniglot, { preprocessing: gray32, prefetch: -1 })).toThrow(
      'dataset: loader: prefetch must be an integer >= 0, got -1',
    );
    expect(() => new Loader(omniglot, { preprocessing: gray32, augment: { flip: { p: 3 } } })).toThrow(
      'dataset: augment.flip.p must be in [0, 1], got 3',
    );
    expect(() => [...chunks([1], 0)]).toThrow('dataset: batch size must be a positive integer, got 0');
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEmbeddings, saveEmbeddings } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BruteForceGallery } from './brute-force.js';
import { openGallery } from './open.js';
import { distance, searchPlan, smallest } from './plan.js';

describe('BruteForceGallery over the embeddings file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'siamese-gallery-bf-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('opens a file from siamese embed, searches exactly, and writes the same format back', async () => {
    const file = join(dir, 'e.safetensors');
    await saveEmbeddings(file, {
      embeddings: { dtype: 'float32', shape: [4, 2], data: Float32Array.of(0, 0, 1, 0, 0, 3, 5, 5) },
      items: [{ id: 'a', path: '/x/a.png', class: 'p' }, { id: 'b', class: 'q' }, { id: 'c' }, { id: 'd' }],
      model: 'm'.repeat(64),
      dataset: 'folder',
    });
    const g = await openGallery(file);
    expect(g).toBeInstanceOf(BruteForceGallery);
    expect(g.info()).toEqual({
      kind: 'embeddings-file',
      model: 'm'.repeat(64),
      dimension: 2,
      metric: 'l2',
      size: 4,
      dataset: 'folder',
    });
    const found = await g.search(Float32Array.of(0.9, 0), 3);
    expect(found.map((c) => [c.id, c.distance])).toEqual([
      ['b', expect.closeTo(0.01, 6)],
      ['a', expect.closeTo(0.81, 6)],
      ['c', expect.closeTo(9.81, 5)],
    ]);
    expect(found[1]).toMatchObject({ label: 'p', path: '/x/a.png' });

    await g.add([{ id: 'e', label: 'p' }], Float32Array.of(1, 1));
    expect(await g.remove(['a', 'zz'])).toBe(1);
    await g.save(file);
    const back = await loadEmbeddings(file);
    expect(back.items).toEqual([{ id: 'e', class: 'p' }, { id: 'b', class: 'q' }, { id: 'c' }, { id: 'd' }]);
    expect(Array.from(back.embeddings.data)).toEqual([1, 1, 1, 0, 0, 3, 5, 5]);
    expect(back.model).toBe('m'.repeat(64));

    const cos = await openGallery(file, { metric: 'cosine' });
    expect((await cos.search(Float32Array.of(10, 10), 1))[0]!.id).toBe('e');
  });

  it("removes every row of an id, as a server's file holds one row per enrolled image", async () => {
    const g = BruteForceGallery.fromEmbeddings({
      embeddings: { dtype: 'float32', shape: [4, 1], data: Float32Array.of(1, 2, 3, 4) },
      items: [{ id: 'alice' }, { id: 'bob' }, { id: 'alice' }, { id: 'alice' }],
      model: 'm'.repeat(64),
      dataset: 'serve',
    });
    expect(await g.remove(['alice'])).toBe(3);
    expect(g.items().map((i) => i.id)).toEqual(['bob']);
    expect((await g.search(Float32Array.of(2), 5)).map((c) => [c.id, c.embedding[0]])).toEqual([['bob', 2]]);
    expect(await g.remove(['alice'])).toBe(0);
  });

  it('picks the smallest k, smallest first, ties by position', () => {
    expect(smallest(Float32Array.of(3, 1, 2, 1, 0), 3)).toEqual([4, 1, 3]);
    expect(smallest(Float32Array.of(3, 1), 5)).toEqual([1, 0]);
    expect(smallest(Float32Array.of(), 2)).toEqual([]);
    const a = Float32Array.of(1, 0);
    expect(distance('cosine', a, 0, Float32Array.of(0, 2), 0, 2)).toBeCloseTo(1);
    expect(distance('cosine', a, 0, Float32Array.of(3, 0), 0, 2)).toBeCloseTo(0);
    expect(distance('cosine', a, 0, Float32Array.of(0, 0), 0, 2)).toBe(1);
  });
});

describe('searchPlan: the candidate stage a combine mode needs', () => {
  const input = { channels: 1, height: 28, width: 28 };
  const encoder = 'resnet10_w8';
  const w = (v: number) =>
    new Map([['head.0.weight', { dtype: 'float32' as const, shape: [1, 1], data: Float32Array.of(v) }]]);

  it('is exact for distance heads without hidden layers, and candidates + re-ranking otherwise', () => {
    expect(searchPlan({ encoder, input, combine: 'euclidean' }, w(-0.5))).toMatchObject({
      metric: 'l2',
      exact: true,
    });
    expect(searchPlan({ encoder, input, combine: 'euclidean' }, w(0.5))).toMatchObject({
      metric: 'l2',
      exact: false,
    });
    expect(searchPlan({ encoder, input, combine: 'cosine' }, w(4))).toMatchObject({
      metric: 'cosine',
      exact: true,
    });
    expect(searchPlan({ encoder, input, combine: 'cosine' })).toMatchObject({
      metric: 'cosine',
      exact: true,
    });
    expect(searchPlan({ encoder, input, combine: 'cosine', head: { hidden: [8] } })).toMatchObject({
      metric: 'cosine',
      exact: false,
    });
    for (const combine of ['absdiff', 'diff', 'concat'] as const) {
      const plan = searchPlan({ encoder, input, combine });
      expect(plan).toMatchObject({ metric: 'l2', exact: false });
      expect(plan.reason).toContain(`${combine} head`);
    }
    expect(searchPlan({ encoder, input })).toMatchObject({ metric: 'l2', exact: false });
  });
});

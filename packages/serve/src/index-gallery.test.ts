/**
 * The server on an ANN gallery folder (`siamese index build`'s format): enrolments become index
 * items, search re-ranks the index's candidates with the head, removal drops every image of an
 * enrolment, each change is saved to the folder, and a folder built by another model is refused.
 */
import { join } from 'node:path';
import { loadModel, modelFingerprint, resnetEmbeddingSize, resolveSiamese } from '@siamese/core';
import { UsearchGallery } from '@siamese/gallery';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IndexGallery } from './index-gallery.js';
import { startServer } from './server.js';
import { fixture, IMAGES, l1Scorer, makeModel, postJson, SAME, tempDir } from './test-util.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.remove());

describe('IndexGallery', () => {
  it('enrols several images under one id, searches by its best image, removes them all, and saves each change', async () => {
    const dir = join(tmp.path, 'unit');
    await UsearchGallery.create({ model: 'a'.repeat(64), dimension: 2, metric: 'l2' }).save(dir);
    const g = await IndexGallery.open(dir, 2, 'a'.repeat(64));
    await g.add({ id: 'a', label: 'A', embeddings: Float32Array.from([0, 0, 10, 10]) });
    await g.add({ id: 'b', embeddings: Float32Array.from([1, 1]) });
    expect([g.size, g.ids, g.has('a'), g.has('a#1')]).toEqual([3, 2, true, false]);
    expect(await g.search(Float32Array.from([9, 9]), 5, l1Scorer)).toEqual([
      { id: 'a', label: 'A', logit: -2 },
      { id: 'b', label: null, logit: -16 },
    ]);
    const reopened = await IndexGallery.open(dir, 2, 'a'.repeat(64));
    expect([reopened.size, reopened.ids]).toEqual([3, 2]);
    expect(await reopened.remove('a')).toBe(2);
    expect(await reopened.remove('a')).toBe(0);
    const again = await IndexGallery.open(dir, 2, 'a'.repeat(64));
    expect([again.size, again.has('b'), again.has('a')]).toEqual([1, true, false]);
    await expect(IndexGallery.open(dir, 2, 'b'.repeat(64))).rejects.toThrow(
      /^--gallery '.*unit' was embedded by another model/,
    );
  });

  it('undoes a change whose save fails: memory stays what the folder holds', async () => {
    const dir = join(tmp.path, 'undo');
    await UsearchGallery.create({ model: 'a'.repeat(64), dimension: 2, metric: 'l2' }).save(dir);
    const g = await IndexGallery.open(dir, 2, 'a'.repeat(64));
    await g.add({ id: 'a', embeddings: Float32Array.from([0, 0]) });
    const save = vi.spyOn(UsearchGallery.prototype, 'save').mockRejectedValueOnce(new Error('disk full'));
    try {
      await expect(g.add({ id: 'b', embeddings: Float32Array.from([1, 1, 2, 2]) })).rejects.toThrow(
        'disk full',
      );
      expect([g.size, g.ids, g.has('b')]).toEqual([1, 1, false]);
      save.mockRejectedValueOnce(new Error('disk full'));
      await expect(g.remove('a')).rejects.toThrow('disk full');
      expect([g.size, g.has('a')]).toEqual([1, true]);
      expect(await g.search(Float32Array.from([0, 0]), 1, l1Scorer)).toEqual([
        { id: 'a', label: null, logit: -0 },
      ]);
    } finally {
      save.mockRestore();
    }
    await g.add({ id: 'b', embeddings: Float32Array.from([1, 1]) });
    expect((await IndexGallery.open(dir, 2, 'a'.repeat(64))).ids).toBe(2);
  });

  it('serves an index folder: enrol, search, delete, and a restart keeps it', async () => {
    const model = await makeModel(join(tmp.path, 'model'));
    const artifact = await loadModel(model);
    const dimension = resnetEmbeddingSize(resolveSiamese(artifact.config).encoder);
    const gallery = join(tmp.path, 'gallery');
    await UsearchGallery.create({ model: modelFingerprint(artifact), dimension, metric: 'l2' }).save(gallery);
    const square = (await fixture(IMAGES.square)).toString('base64');
    let server = await startServer({ model, port: 0, workers: 1, threads: 1, gallery });
    try {
      expect(
        (await postJson(server.url, '/v1/gallery', { id: 'sq', label: 'square', images: [square, square] }))
          .status,
      ).toBe(201);
    } finally {
      await server.close();
    }
    server = await startServer({ model, port: 0, workers: 1, threads: 1, gallery });
    try {
      expect([server.gallery.ids, server.gallery.size]).toEqual([1, 2]);
      const s = (await (await postJson(server.url, '/v1/search', { image: square, k: 3 })).json()) as {
        matches: unknown;
      };
      expect(s.matches).toEqual([
        { rank: 1, id: 'sq', label: 'square', probability: expect.closeTo(SAME, 6), same: true },
      ]);
      const d: unknown = await (await fetch(`${server.url}/v1/gallery/sq`, { method: 'DELETE' })).json();
      expect(d).toEqual({ id: 'sq', removed: 2, gallery: 0 });
      // Two enrolments of one id at once: one is made, the other is a conflict.
      const both = await Promise.all(
        [0, 1].map(() => postJson(server.url, '/v1/gallery', { id: 'twice', images: [square] })),
      );
      expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
      expect([server.gallery.ids, server.gallery.size]).toEqual([1, 1]);
    } finally {
      await server.close();
    }
  });
});

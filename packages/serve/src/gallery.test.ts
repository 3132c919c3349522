import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEmbeddings, saveEmbeddings } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServeConfigError } from './errors.js';
import { FlatGallery } from './gallery.js';
import { startServer } from './server.js';
import { fixture, IMAGES, l1Scorer, makeModel, postJson, tempDir } from './test-util.js';

const FP = 'a'.repeat(64);
describe('FlatGallery', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(() => tmp.remove());

  it('adds, searches (an enrolment scores as its best image), removes, and persists each change', async () => {
    const file = join(tmp.path, 'g.safetensors');
    const g = await FlatGallery.open(file, 2, FP);
    expect(g.size).toBe(0);
    await g.add({ id: 'a', label: 'A', embeddings: Float32Array.from([0, 0, 10, 10]) });
    await g.add({ id: 'b', embeddings: Float32Array.from([1, 1]) });
    expect([g.size, g.ids, g.has('a'), g.has('c')]).toEqual([3, 2, true, false]);
    expect(await g.search(Float32Array.from([9, 9]), 5, l1Scorer)).toEqual([
      { id: 'a', label: 'A', logit: -2 },
      { id: 'b', label: null, logit: -16 },
    ]);
    expect(await g.search(Float32Array.from([1, 1]), 1, l1Scorer)).toEqual([
      { id: 'b', label: null, logit: -0 },
    ]);
    const saved = await loadEmbeddings(file);
    expect(saved.items).toEqual([{ id: 'a', class: 'A' }, { id: 'a', class: 'A' }, { id: 'b' }]);
    expect(saved.model).toBe(FP);
    expect(await g.remove('a')).toBe(2);
    expect(await g.remove('a')).toBe(0);
    const reopened = await FlatGallery.open(file, 2, FP);
    expect([reopened.size, reopened.has('b'), reopened.has('a')]).toEqual([1, true, false]);
  });

  it('a change whose write fails is not made: the gallery stays as its file has it', async () => {
    const dir = join(tmp.path, 'gone');
    await mkdir(dir);
    const g = await FlatGallery.open(join(dir, 'g.safetensors'), 2, FP);
    await g.add({ id: 'a', embeddings: Float32Array.from([0, 0]) });
    await rm(dir, { recursive: true });
    await writeFile(dir, 'not a folder');
    await expect(g.add({ id: 'b', embeddings: Float32Array.from([1, 1]) })).rejects.toThrow();
    await expect(g.remove('a')).rejects.toThrow();
    expect([g.size, g.has('a'), g.has('b')]).toEqual([1, true, false]);
    await rm(dir);
    await mkdir(dir);
    await g.add({ id: 'b', embeddings: Float32Array.from([1, 1]) });
    expect((await loadEmbeddings(join(dir, 'g.safetensors'))).items).toEqual([{ id: 'a' }, { id: 'b' }]);
  });

  it('refuses a file embedded by another model, or with other dimensions, in one line', async () => {
    const file = join(tmp.path, 'other.safetensors');
    await saveEmbeddings(file, {
      embeddings: { dtype: 'float32', shape: [1, 2], data: new Float32Array(2) },
      items: [{ id: 'x' }],
      model: 'b'.repeat(64),
      dataset: 'd',
    });
    const e = await FlatGallery.open(file, 2, FP).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ServeConfigError);
    expect((e as Error).message).toBe(
      `--gallery '${file}' was embedded by another model (fingerprint bbbbbbbbbbbb, this model aaaaaaaaaaaa); embed it again with this model`,
    );
    await expect(FlatGallery.open(file, 3, 'b'.repeat(64))).rejects.toThrow(
      `--gallery '${file}' holds 2-float embeddings but the model makes 3: it was embedded by another model`,
    );
    await expect(FlatGallery.open(tmp.path, 2, FP)).rejects.toThrow('is a folder; name a file');
  });
});

describe('a served gallery across restarts', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(() => tmp.remove());

  it('keeps what was enrolled, and refuses the file under another model', async () => {
    const model = await makeModel(join(tmp.path, 'model'));
    const gallery = join(tmp.path, 'gallery.safetensors');
    const square = (await fixture(IMAGES.square)).toString('base64');
    let server = await startServer({ model, port: 0, workers: 1, threads: 1, gallery });
    expect(
      (await postJson(server.url, '/v1/gallery', { id: 'sq', label: 'square', images: [square] })).status,
    ).toBe(201);
    await server.close();

    server = await startServer({ model, port: 0, workers: 1, threads: 1, gallery });
    try {
      const s = await (await postJson(server.url, '/v1/search', { image: square, k: 1 }))
        .text()
        .then(JSON.parse);
      expect(s.matches).toEqual([
        {
          rank: 1,
          id: 'sq',
          label: 'square',
          probability: expect.closeTo(1 / (1 + Math.exp(-2)), 6),
          same: true,
        },
      ]);
    } finally {
      await server.close();
    }

    const other = await makeModel(join(tmp.path, 'other'), 2);
    await expect(startServer({ model: other, port: 0, workers: 1, threads: 1, gallery })).rejects.toThrow(
      /^--gallery '.*gallery\.safetensors' was embedded by another model/,
    );
  });
});

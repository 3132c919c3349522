import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BruteForceGallery } from './brute-force.js';
import { checkModel, GalleryError } from './gallery.js';
import { openGallery } from './open.js';
import { clusters, near } from './test-util.js';
import { GALLERY_FILES, UsearchGallery } from './usearch-gallery.js';

const D = 16;
const MODEL = 'a'.repeat(64);

describe('UsearchGallery', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'siamese-gallery-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const data = clusters(3000, D, 1);
  const ids = (cs: { id: string }[]) => cs.map((c) => c.id);

  it('finds the exact nearest neighbours of most queries (recall@20 against brute force)', async () => {
    const g = UsearchGallery.create({ model: MODEL, dimension: D, metric: 'l2', threads: 1 });
    const progress: number[] = [];
    await g.add(data.items, data.embeddings, { onProgress: (done) => progress.push(done) });
    expect(progress.at(-1)).toBe(3000);
    const exact = new BruteForceGallery({ model: MODEL, dimension: D }, data.items, data.embeddings);
    let hits = 0;
    for (let q = 0; q < 50; q++) {
      const query = near(data.embeddings, D, q * 37, q);
      const a = await g.search(query, 20);
      const b = await exact.search(query, 20);
      expect(a).toHaveLength(20);
      expect(a[0]!.distance).toBeLessThanOrEqual(a[19]!.distance);
      const truth = new Set(ids(b));
      hits += a.filter((c) => truth.has(c.id)).length;
    }
    expect(hits / (50 * 20)).toBeGreaterThan(0.95);
    // Distances are the metric's (squared L2), and each candidate carries its own stored embedding.
    const [top] = await g.search(data.embeddings.subarray(5 * D, 6 * D), 1);
    expect(top).toMatchObject({ id: 'i5', label: data.items[5]!.label, distance: 0 });
    expect(Array.from(top!.embedding)).toEqual(Array.from(data.embeddings.subarray(5 * D, 6 * D)));
  });

  it('round-trips: build, add, remove, save, reload, add and remove again', async () => {
    const path = join(dir, 'g');
    const g = UsearchGallery.create({
      model: MODEL,
      dimension: D,
      metric: 'cosine',
      dataset: 'test',
      threads: 1,
    });
    await g.add(data.items.slice(0, 1000), data.embeddings.subarray(0, 1000 * D));
    await g.add(data.items.slice(1000, 1200), data.embeddings.subarray(1000 * D, 1200 * D));
    // Removing i3 moves the last row (i1199) into its place: both must stay right.
    expect(await g.remove(['i3', 'i10', 'nope', 'i10'])).toBe(2);
    expect(g.info()).toMatchObject({ kind: 'usearch', size: 1198, dimension: D, metric: 'cosine' });
    const row = (i: number) => data.embeddings.subarray(i * D, (i + 1) * D);
    expect((await g.search(row(3), 1))[0]!.id).not.toBe('i3');
    expect((await g.search(row(1199), 1))[0]).toMatchObject({ id: 'i1199' });
    expect(Array.from((await g.search(row(1199), 1))[0]!.embedding)).toEqual(Array.from(row(1199)));
    await g.save(path);
    expect((await readdir(path)).sort()).toEqual(Object.values(GALLERY_FILES).sort());
    expect((await readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([]);

    const h = await UsearchGallery.load(path);
    expect(h.info()).toEqual(g.info());
    const q = near(data.embeddings, D, 42, 7);
    expect(await h.search(q, 15)).toEqual(await g.search(q, 15));
    await h.add(data.items.slice(2000, 2010), data.embeddings.subarray(2000 * D, 2010 * D));
    expect(await h.remove(['i1199', 'i0'])).toBe(2);
    expect((await h.search(row(2005), 1))[0]!.id).toBe('i2005');
    await h.save(path); // over the old folder
    const k = await openGallery(path);
    expect(k).toBeInstanceOf(UsearchGallery);
    expect(k.info().size).toBe(1198 + 10 - 2);
    expect(ids(await k.search(row(1199), 1000))).not.toContain('i1199');
    expect((await k.search(row(2009), 1))[0]!.id).toBe('i2009');
    // Every row is still its own key: each item is its own nearest neighbour.
    for (const it of (k as UsearchGallery).items().slice(0, 200)) {
      const i = Number(it.id.slice(1));
      expect((await k.search(row(i), 1))[0]!.id).toBe(it.id);
    }
  });

  it('runs overlapping add, remove and save one at a time (a server may not await each)', async () => {
    const big = clusters(9000, 4, 5); // two chunks: add yields between them
    const g = UsearchGallery.create({ model: MODEL, dimension: 4, metric: 'l2', threads: 1 });
    const path = join(dir, 'overlap');
    const calls = [
      g.add(big.items.slice(0, 8999), big.embeddings.subarray(0, 8999 * 4)),
      g.remove(['i0', 'i8998']),
      g.save(path),
      g.add(big.items.slice(8999), big.embeddings.subarray(8999 * 4)),
    ];
    await Promise.all(calls);
    expect(g.info().size).toBe(8998);
    expect((await UsearchGallery.load(path)).info().size).toBe(8997);
    for (const i of [1, 4500, 8997, 8999]) {
      const [top] = await g.search(big.embeddings.subarray(i * 4, (i + 1) * 4), 1);
      expect(top!.id).toBe(`i${i}`);
    }
  });

  it('refuses duplicate ids, bad embeddings and bad queries without changing anything', async () => {
    const g = UsearchGallery.create({ model: MODEL, dimension: D, metric: 'l2', threads: 1 });
    await g.add(data.items.slice(0, 5), data.embeddings.subarray(0, 5 * D));
    const one = data.embeddings.subarray(0, D);
    await expect(g.add([{ id: 'i2' }], one)).rejects.toThrow("item id 'i2' is already in the gallery");
    await expect(g.add([{ id: 'x' }, { id: 'x' }], data.embeddings.subarray(0, 2 * D))).rejects.toThrow(
      "item id 'x' is given twice",
    );
    await expect(g.add([{ id: 'y' }], one.subarray(1))).rejects.toThrow('embeddings hold 15 floats');
    await expect(g.add([{ id: 'z' }], new Float32Array(D).fill(Number.NaN))).rejects.toThrow(
      "embedding of 'z' has a non-finite value",
    );
    await expect(g.search(new Float32Array(3), 1)).rejects.toThrow('query has 3 floats');
    expect(g.info().size).toBe(5);
    expect(
      await UsearchGallery.create({ model: MODEL, dimension: D, metric: 'l2', threads: 1 }).search(one, 3),
    ).toEqual([]);
  });

  it("refuses another model's gallery and damaged folders, one line each", async () => {
    const path = join(dir, 'other');
    const g = UsearchGallery.create({ model: MODEL, dimension: D, metric: 'l2', threads: 1 });
    await g.add(data.items.slice(0, 50), data.embeddings.subarray(0, 50 * D));
    await g.save(path);
    const info = (await openGallery(path)).info();
    expect(() => checkModel(info, { fingerprint: MODEL, dimension: D }, path)).not.toThrow();
    expect(() => checkModel(info, { fingerprint: MODEL, dimension: 32 }, path)).toThrow(
      `${path} holds 16-float embeddings but the model makes 32: it was embedded by another model`,
    );
    expect(() => checkModel(info, { fingerprint: 'b'.repeat(64), dimension: D }, path)).toThrow(
      /was embedded by another model \(or other weights\): fingerprint aaaaaaaaaaaa, this model bbbbbbbbbbbb/,
    );

    await expect(openGallery(join(dir, 'missing'))).rejects.toThrow(/missing: no such file or folder$/);
    await writeFile(join(path, GALLERY_FILES.items), '[{"id": 1}]');
    await expect(UsearchGallery.load(path)).rejects.toThrow(GalleryError);
    await expect(UsearchGallery.load(path)).rejects.toThrow(
      `gallery ${path}: items.json is not a list of items`,
    );
    await writeFile(join(path, GALLERY_FILES.meta), '{"format": "x"}');
    await expect(UsearchGallery.load(path)).rejects.toThrow('gallery.json is not a siamese gallery');
    await rm(join(path, GALLERY_FILES.meta));
    await expect(UsearchGallery.load(path)).rejects.toThrow('no gallery.json (not a gallery folder?)');
  });
});

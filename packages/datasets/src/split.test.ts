import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, Item } from './dataset.js';
import { imageFolder } from './sources/image-folder.js';
import { applyManifest, partSizes, readManifest, splitDataset, writeManifest } from './split.js';

const FIX = fileURLToPath(new URL('./__fixtures__/', import.meta.url));

/** `classes` classes of `per` items each (ids only: splits never read pixels). */
function synthetic(classes: number, per: number): Dataset {
  const items: Item[] = [];
  for (let c = 0; c < classes; c++) {
    for (let k = 0; k < per; k++)
      items.push({ id: `c${c}/${k}`, label: c, className: `c${c}`, group: `g${c % 4}` });
  }
  return {
    name: 'synthetic',
    classes: Array.from({ length: classes }, (_, c) => `c${c}`),
    items,
    warnings: [],
  };
}

const labels = (d: Dataset) => new Set(d.items.map((i) => i.label));

describe('splits', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'siamese-split-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('by class (open-set): whole classes, disjoint, in the fractions asked', () => {
    const ds = synthetic(20, 3);
    const s = splitDataset(ds, { by: 'class', seed: 1, fractions: { train: 0.6, val: 0.2, test: 0.2 } });
    expect([labels(s.train).size, labels(s.val).size, labels(s.test).size]).toEqual([12, 4, 4]);
    const all = [...labels(s.train), ...labels(s.val), ...labels(s.test)];
    expect(new Set(all).size).toBe(20);
    expect(s.train.items.length + s.val.items.length + s.test.items.length).toBe(60);
    expect(s.manifest.counts.test).toEqual({ items: 12, classes: 4 });
    expect(s.test.classes).toBe(ds.classes); // labels keep their meaning
  });

  it('by image (closed-set): every class in every part', () => {
    const s = splitDataset(synthetic(5, 10), {
      by: 'image',
      seed: 1,
      fractions: { train: 0.6, val: 0.2, test: 0.2 },
    });
    for (const part of [s.train, s.val, s.test]) expect(labels(part).size).toBe(5);
    expect([s.train.items.length, s.val.items.length, s.test.items.length]).toEqual([30, 10, 10]);
    const ids = [s.train, s.val, s.test].flatMap((d) => d.items.map((i) => i.id));
    expect(new Set(ids).size).toBe(50);
  });

  it('by group: whole alphabets', async () => {
    const omniglot = await imageFolder(`${FIX}omniglot`);
    const s = splitDataset(omniglot, { by: 'group', seed: 3, fractions: { train: 2, test: 1 } });
    const groups = (d: Dataset) => new Set(d.items.map((i) => i.group));
    expect(groups(s.train).size + groups(s.test).size).toBe(3);
    expect([...groups(s.train)].some((g) => groups(s.test).has(g))).toBe(false);
    expect(s.val.items).toHaveLength(0);
    expect(s.test.groups).toEqual([...groups(s.test)].sort());
  });

  it('same seed, same split; another seed, another', () => {
    const ds = synthetic(30, 2);
    const ids = (seed: number) => splitDataset(ds, { by: 'class', seed }).manifest.parts;
    expect(ids(5)).toEqual(ids(5));
    expect(ids(5)).not.toEqual(ids(6));
  });

  it('sizes: largest remainder, and a non-empty part for every non-zero share', () => {
    expect(partSizes(10, { train: 0.7, val: 0.1, test: 0.2 })).toEqual({ train: 7, val: 1, test: 2 });
    expect(partSizes(3, { train: 0.7, val: 0.1, test: 0.2 })).toEqual({ train: 1, val: 1, test: 1 });
    expect(partSizes(1, { train: 0.5, val: 0, test: 0.5 })).toEqual({ train: 1, val: 0, test: 0 });
  });

  it('round-trips through a manifest file (written atomically) to the identical split', async () => {
    const ds = synthetic(12, 3);
    const s = splitDataset(ds, { by: 'class', seed: 9 });
    const path = join(tmp, 'split.json');
    await writeManifest(path, s.manifest);
    const m = await readManifest(path);
    expect(m).toEqual(s.manifest);
    const again = applyManifest(ds, m, path);
    for (const p of ['train', 'val', 'test'] as const) expect(again[p].items).toEqual(s[p].items);
  });

  it('bad manifests: one line naming the file', async () => {
    const ds = synthetic(4, 2);
    const path = join(tmp, 'bad.json');
    await expect(readManifest(join(tmp, 'nope.json'))).rejects.toThrow(
      `dataset: ${join(tmp, 'nope.json')}: split manifest does not exist`,
    );
    await writeFile(path, '{oops');
    await expect(readManifest(path)).rejects.toThrow(new RegExp(`^dataset: ${path}: not valid JSON \\(`));
    await writeFile(path, JSON.stringify({ format: 'other' }));
    await expect(readManifest(path)).rejects.toThrow(
      `dataset: ${path}: not a split manifest (format is not 'siamese-split')`,
    );
    const s = splitDataset(ds, { by: 'class', seed: 1 });
    const moved = { ...s.manifest, parts: { ...s.manifest.parts, test: ['c9/0'] } };
    expect(() => applyManifest(ds, moved, path)).toThrow(
      `dataset: ${path}: test item 'c9/0' is not in dataset 'synthetic' (was it moved or renamed?)`,
    );
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ format: 'other' });
  });

  it('refuses what cannot be split', () => {
    expect(() => splitDataset(synthetic(1, 5), { by: 'class', seed: 1 })).toThrow(
      "dataset: split: by 'class' needs at least 2 classes; 'synthetic' has 1",
    );
    const flat = { ...synthetic(4, 2), items: synthetic(4, 2).items.map(({ group: _g, ...rest }) => rest) };
    expect(() => splitDataset(flat, { by: 'group', seed: 1 })).toThrow(
      "split: by 'group' needs grouped items",
    );
    expect(() =>
      splitDataset(synthetic(4, 2), { by: 'class', seed: 1, fractions: { train: 0, test: 1 } }),
    ).toThrow('dataset: split: fractions.train must be > 0');
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetWarning } from '../dataset.js';
import { DatasetError } from '../errors.js';
import { imageFolder } from './image-folder.js';

const FIX = fileURLToPath(new URL('../__fixtures__/', import.meta.url));

describe('imageFolder: a folder per class', () => {
  it('lists classes in name order and every image format, skipping other files', async () => {
    const ds = await imageFolder(`${FIX}folder`);
    expect(ds.classes).toEqual(['circle', 'lonely', 'square', 'triangle']);
    expect(ds.groups).toBeUndefined();
    expect(ds.items.map((i) => i.id)).toEqual([
      'circle/circle-1.png',
      'circle/circle-2.jpg',
      'circle/circle-3.webp',
      'lonely/lonely-1.png',
      'square/square-1.gif',
      'square/square-2.tiff',
      'square/square-3-16bit.png',
      'triangle/triangle-1-alpha.png',
      'triangle/triangle-2-exif6.jpg',
      'triangle/triangle-3.png',
    ]);
    expect(ds.items.map((i) => i.label)).toEqual([0, 0, 0, 1, 2, 2, 2, 3, 3, 3]);
    expect(ds.items[0]?.path).toBe(`${FIX}folder/circle/circle-1.png`);
    expect(ds.items[0]?.className).toBe('circle');
  });

  it('reports the class with one image and the ignored non-image file', async () => {
    const seen: DatasetWarning[] = [];
    const ds = await imageFolder(`${FIX}folder`, { onWarning: (w) => seen.push(w) });
    expect(seen).toEqual(ds.warnings);
    expect(ds.warnings.map((w) => w.message)).toEqual([
      `dataset: ${FIX}folder/circle/notes.txt: not an image file name (.png .jpg .jpeg .webp .gif .tif .tiff), ignored`,
      "dataset: class 'lonely' has one image (lonely/lonely-1.png): it cannot give a positive pair",
    ]);
    expect(ds.warnings.map((w) => w.code)).toEqual(['ignored-file', 'single-image-class']);
  });
});

describe('imageFolder: the Omniglot layout', () => {
  it('takes the leaf folder as the class and keeps the alphabet as the group, with drawers', async () => {
    const ds = await imageFolder(`${FIX}omniglot`);
    expect(ds.groups).toEqual(['Alpha', 'Beta', 'Gamma']);
    expect(ds.classes).toHaveLength(43);
    expect(ds.classes[0]).toBe('Alpha/character01');
    expect(ds.items).toHaveLength(20 * 3 + 20 * 2 + 3 * 2);
    expect(ds.items[1]).toMatchObject({
      id: 'Alpha/character01/0001_02.png',
      label: 0,
      className: 'Alpha/character01',
      group: 'Alpha',
      drawer: '02',
    });
    const beta = ds.items.filter((i) => i.group === 'Beta');
    expect(new Set(beta.map((i) => i.className)).size).toBe(20);
    expect(new Set(beta.map((i) => i.drawer))).toEqual(new Set(['01', '02']));
  });

  it('can be forced flat, and drawers turned off', async () => {
    const flat = await imageFolder(`${FIX}omniglot/Alpha`, { layout: 'classes', drawerPattern: null });
    expect(flat.classes).toHaveLength(20);
    expect(flat.items.every((i) => i.group === undefined && i.drawer === undefined)).toBe(true);
  });
});

describe('imageFolder: bad input', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'siamese-folder-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const failure = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as Error).message).not.toContain('\n');
    return e as DatasetError;
  };

  it('a missing folder', async () => {
    const e = await failure(imageFolder(join(tmp, 'nope')));
    expect(e.message).toBe(`dataset: ${join(tmp, 'nope')}: dataset folder does not exist`);
    expect(e.code).toBe('not-found');
  });

  it('a file given as the folder', async () => {
    const e = await failure(imageFolder(`${FIX}pairs/pairs.csv`));
    expect(e.message).toBe(`dataset: ${FIX}pairs/pairs.csv: dataset folder is a file, not a folder`);
  });

  it('an empty dataset: no class folders, or class folders without images', async () => {
    const empty = join(tmp, 'empty');
    await mkdir(empty);
    expect((await failure(imageFolder(empty))).message).toBe(
      `dataset: ${empty}: dataset folder has no class folders (expected <class>/<image> inside)`,
    );
    await mkdir(join(empty, 'cats'));
    await writeFile(join(empty, 'cats', 'readme.md'), 'no images here');
    const e = await failure(imageFolder(empty));
    expect(e.code).toBe('empty');
    expect(e.message).toBe(
      `dataset: ${empty}: dataset folder has no images (looked for .png .jpg .jpeg .webp .gif .tif .tiff in <group>/<class>/ folders)`,
    );
  });

  it('fails on the first invalid file, naming it (header check catches zero-byte and non-image files)', async () => {
    const e = await failure(imageFolder(`${FIX}broken`));
    expect(e.message).toMatch(
      new RegExp(`^dataset: ${FIX}broken/bad/text\\.jpg: not an image sharp can read`),
    );
    expect(e.file).toBe(`${FIX}broken/bad/text.jpg`);
  });

  it('with skipInvalid, warns once per bad file and keeps the rest; a full check also catches truncation', async () => {
    const header = await imageFolder(`${FIX}broken`, { skipInvalid: true });
    expect(header.items.map((i) => i.id)).toEqual([
      'bad/ok.png',
      'bad/truncated.png',
      'good/a.png',
      'good/b.png',
    ]);
    const full = await imageFolder(`${FIX}broken`, { skipInvalid: true, check: 'full' });
    expect(full.items.map((i) => i.id)).toEqual(['bad/ok.png', 'good/a.png', 'good/b.png']);
    expect(full.warnings.map((w) => [w.code, w.file])).toEqual([
      ['invalid-image', `${FIX}broken/bad/text.jpg`],
      ['invalid-image', `${FIX}broken/bad/truncated.png`],
      ['invalid-image', `${FIX}broken/bad/zero.png`],
      ['single-image-class', `${FIX}broken/bad/ok.png`],
    ]);
    expect(full.warnings[2]?.message).toBe(
      `dataset: ${FIX}broken/bad/zero.png: empty file (0 bytes), not an image (skipped)`,
    );
  });

  it('check none trusts the files', async () => {
    const ds = await imageFolder(`${FIX}broken`, { check: 'none' });
    expect(ds.items).toHaveLength(6);
  });

  it('images at the root are reported, not silently taken as a class', async () => {
    const root = join(tmp, 'stray');
    await mkdir(join(root, 'a'), { recursive: true });
    const { readFile } = await import('node:fs/promises');
    const png = await readFile(`${FIX}broken/good/a.png`);
    await writeFile(join(root, 'stray.png'), png);
    await writeFile(join(root, 'a', '1.png'), png);
    await writeFile(join(root, 'a', '2.png'), png);
    const ds = await imageFolder(root);
    expect(ds.warnings[0]?.message).toBe(
      `dataset: ${join(root, 'stray.png')}: image outside any class folder, ignored`,
    );
    expect(ds.items).toHaveLength(2);
  });
});

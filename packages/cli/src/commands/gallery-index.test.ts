import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copiesFolder, FIXTURES, makeModel, siameseCli, tempDir } from '../test/cli.js';

const SAME = 1 / (1 + Math.exp(-2));
const CPU = ['--device', 'cpu'];

describe('siamese index build/add/remove/info and search on a gallery index (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;
  let gallery: string;
  let circles: string;
  let index: string;
  const query = join(FIXTURES, 'folder/circle/circle-1.png');
  const searchJson = async (model_: string, top = 4) => {
    const r = await siameseCli([
      'search',
      model_,
      query,
      '--index',
      index,
      '--top',
      String(top),
      '--json',
      ...CPU,
    ]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as {
      kind: string;
      gallery: number;
      candidates: number;
      matches: { id: string; class: string; probability: number; path: string }[];
    };
  };

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'), { head: 'distance' });
    gallery = await copiesFolder(join(tmp.path, 'gallery'));
    circles = join(tmp.path, 'circles');
    await copiesFolder(join(tmp.path, 'all-again'));
    await mkdir(circles);
    const { rename } = await import('node:fs/promises');
    await rename(join(tmp.path, 'all-again/circle'), join(circles, 'circle'));
    index = join(tmp.path, 'out/gallery.index');
  });
  afterAll(() => tmp.remove());

  it('builds a gallery folder with progress, atomically, and describes it', async () => {
    const r = await siameseCli([
      'index',
      'build',
      model,
      gallery,
      '--out',
      index,
      '--batch-size',
      '4',
      ...CPU,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`data        ${gallery}: 15 images, 5 classes`);
    expect(lines[1]).toMatch(
      new RegExp(`^wrote ${index} \\(15 items, 64 floats each, [\\d.]+ KiB; indexed in \\d+s\\)$`),
    );
    expect(lines[2]).toBe(
      'search      absdiff head (an MLP on the pair of embeddings): candidates by L2 distance, re-ranked by the head',
    );
    expect(r.errLines).toEqual([
      expect.stringMatching(/^embedded 15\/15 \(100%, \d+s\)$/),
      expect.stringMatching(/^indexed 15\/15 \(100%, \d+s\)$/),
    ]);
    expect((await readdir(index)).sort()).toEqual([
      'ann.usearch',
      'embeddings.safetensors',
      'gallery.json',
      'items.json',
    ]);
    expect(await readdir(join(tmp.path, 'out'))).toEqual(['gallery.index']); // no temp folders left

    const info = await siameseCli(['index', 'info', index]);
    expect(info.code, info.stderr).toBe(0);
    const il = info.stdout.trim().split('\n');
    expect(il[0]).toMatch(new RegExp(`^gallery {5}${index} \\(ANN index folder, [\\d.]+ KiB\\)$`));
    expect(il.slice(1, 3)).toEqual([
      `items       15 from ${gallery}`,
      'embeddings  64 floats, compared by L2 distance',
    ]);
    expect(il[3]).toMatch(/^model {7}[0-9a-f]{64}$/);
    expect(il[4]).toBe(
      'ann         usearch 2.25.3 HNSW: connectivity 16, expansion add 64 / search 128, f32',
    );
    expect(il[5]).toBe('labels      5');
  });

  it('searches the index: candidates from the ANN index, re-ranked by the head', async () => {
    const r = await siameseCli(['search', model, query, '--index', index, '--top', '4', ...CPU]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`top 4 of 15 for ${query} (threshold 0.5000, calibrated at the equal error rate)`);
    for (const k of [1, 2, 3]) {
      expect(lines[k]).toMatch(
        new RegExp(
          `^ {3}${k} {2}${SAME.toFixed(4)} {2}same {2}${gallery}/circle/circle-\\d\\.png {2}\\[circle\\]$`,
        ),
      );
    }
    const j = await searchJson(model, 15);
    expect(j).toMatchObject({ kind: 'usearch', gallery: 15, candidates: 15 });
    // The same ranking as the exhaustive search over an embeddings file of the same images.
    const file = join(tmp.path, 'gallery.safetensors');
    expect((await siameseCli(['embed', model, gallery, '--out', file, ...CPU])).code).toBe(0);
    const exhaustive = await siameseCli([
      'search',
      model,
      query,
      '--index',
      file,
      '--top',
      '15',
      '--json',
      ...CPU,
    ]);
    const e = JSON.parse(exhaustive.stdout);
    expect(e.kind).toBe('embeddings-file');
    expect(j.matches.map((m) => m.probability)).toEqual(
      e.matches.map((m: { probability: number }) => expect.closeTo(m.probability, 5)),
    );
    expect(new Set(j.matches.slice(0, 3).map((m) => m.id))).toEqual(
      new Set(e.matches.slice(0, 3).map((m: { id: string }) => m.id)),
    );
    // index info and remove work on an embeddings file too (rewritten in place, atomically).
    const fi = await siameseCli(['index', 'info', file]);
    expect(fi.stdout).toMatch(/\(embeddings file, searched exactly, [\d.]+ KiB\)/);
    const fr = await siameseCli(['index', 'remove', file, '--label', 'bob', '--label', 'nobody']);
    expect(fr.stdout.trim()).toBe(`removed 3 items from ${file}: 12 left`);
    expect(fr.errLines).toEqual(["warning: no items with label 'nobody'"]);
    expect(JSON.parse((await siameseCli(['index', 'info', file, '--json'])).stdout)).toMatchObject({
      kind: 'embeddings-file',
      size: 12,
      labels: 4,
    });
  });

  it('removes by label and id, adds images back, and refuses an id twice', async () => {
    const rm = await siameseCli([
      'index',
      'remove',
      index,
      '--label',
      'circle',
      '--id',
      'ann/ann-1.png',
      '--id',
      'nope',
    ]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout.trim()).toBe(`removed 4 items from ${index}: 11 left`);
    expect(rm.errLines).toEqual(["warning: 1 id not in the gallery: 'nope'"]);
    let j = await searchJson(model);
    expect(j.gallery).toBe(11);
    expect(j.matches.map((m) => m.class)).not.toContain('circle');
    expect(j.matches.map((m) => m.id)).not.toContain('ann/ann-1.png');

    const add = await siameseCli(['index', 'add', model, index, circles, ...CPU]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout.trim().split('\n')[1]).toBe(`added 3 items to ${index}: 14 now (was 11)`);
    j = await searchJson(model);
    expect(j.matches.slice(0, 3).map((m) => m.class)).toEqual(['circle', 'circle', 'circle']);
    expect(j.matches[0]!.path).toContain(circles);

    const again = await siameseCli(['index', 'add', model, index, circles, ...CPU]);
    expect(again.code).toBe(2);
    expect(again.errLines).toEqual([
      "siamese index: item id 'circle/circle-1.png' is already in the gallery; remove it first",
    ]);
    expect((await searchJson(model)).gallery).toBe(14);
  });

  it("refuses another model's index, bad actions and misplaced flags, one line and exit 2 each", async () => {
    const other = await makeModel(join(tmp.path, 'other'), { head: 'distance', seed: 2 });
    const notFolder = join(tmp.path, 'file.txt');
    await writeFile(notFolder, 'x');
    for (const [args, message] of [
      [
        ['search', other, query, '--index', index],
        /^siamese search: index .*gallery\.index was embedded by another model \(or other weights\)/,
      ],
      [
        ['index', 'add', other, index, circles],
        /^siamese index: .*gallery\.index was embedded by another model/,
      ],
      [['index', 'info', notFolder], /^siamese index: index: .*file\.txt: /],
      [
        ['index', 'info', join(tmp.path, 'nothing')],
        /^siamese index: gallery .*nothing: no such file or folder$/,
      ],
      [
        ['index', 'make', model],
        /^siamese index: unknown action 'make' \(actions: build, add, remove, info\)$/,
      ],
      [['index', 'build', model, gallery], /^siamese index: needs --out GALLERY/],
      [
        ['index', 'build', model, gallery, '--out', notFolder],
        /--out '.*file\.txt' is a file; a gallery index is a folder/,
      ],
      [['index', 'build', model, '--out', join(tmp.path, 'x')], /needs FOLDER or --data SOURCE/],
      [
        ['index', 'build', model, gallery, '--out', join(tmp.path, 'x'), '--quantization', 'i8'],
        /--quantization 'i8' is not one of f32, f16/,
      ],
      [['index', 'remove', index], /needs --id ID or --label NAME/],
      [['index', 'info', index, '--id', 'x'], /--id is for index remove only/],
      [['index', 'add', model, index, circles, '--out', 'x'], /--out is for index build only/],
      [
        ['search', model, query, '--index', index, '--candidates', '2', '--top', '5'],
        /--candidates must be at least --top \(5\), got 2/,
      ],
    ] as const) {
      const r = await siameseCli([...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.errLines).toEqual([expect.stringMatching(message)]);
    }
  });
});

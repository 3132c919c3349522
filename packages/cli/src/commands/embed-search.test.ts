import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEmbeddings } from '../infer/embeddings-file.js';
import { copiesFolder, FIXTURES, makeModel, siameseCli, tempDir } from '../test/cli.js';

const SAME = 1 / (1 + Math.exp(-2));

describe('siamese embed and search (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;
  let gallery: string;
  let index: string;

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'), { head: 'distance' });
    gallery = await copiesFolder(join(tmp.path, 'gallery'));
    index = join(tmp.path, 'out/gallery.safetensors');
  });
  afterAll(() => tmp.remove());

  it('embeds a class folder into a safetensors file with items and the model fingerprint', async () => {
    const r = await siameseCli([
      'embed',
      model,
      gallery,
      '--out',
      index,
      '--device',
      'cpu',
      '--batch-size',
      '4',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`data        ${gallery}: 15 images, 5 classes`);
    expect(lines[1]).toMatch(new RegExp(`^wrote ${index} \\(15 embeddings of 64 floats, [\\d.]+ KiB\\)$`));
    const file = await loadEmbeddings(index);
    expect(file.embeddings.shape).toEqual([15, 64]);
    expect(file.items[0]).toEqual({
      id: 'ann/ann-1.png',
      path: join(gallery, 'ann/ann-1.png'),
      class: 'ann',
    });
    expect(file.model).toMatch(/^[0-9a-f]{64}$/);
  });

  it('finds the copies of the query first, each at the score of identical images', async () => {
    const query = join(FIXTURES, 'folder/circle/circle-1.png');
    const r = await siameseCli(['search', model, query, '--index', index, '--top', '4', '--device', 'cpu']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`top 4 of 15 for ${query} (threshold 0.5000, calibrated at the equal error rate)`);
    for (const k of [1, 2, 3]) {
      expect(lines[k]).toMatch(
        new RegExp(
          `^ {3}${k} {2}${SAME.toFixed(4)} {2}same {2}${gallery}/circle/circle-\\d\\.png {2}\\[circle\\]$`,
        ),
      );
    }
    expect(lines[4]).not.toContain('[circle]');
    const j = JSON.parse(
      (
        await siameseCli([
          'search',
          model,
          query,
          '--index',
          index,
          '--top',
          '20',
          '--json',
          '--device',
          'cpu',
        ])
      ).stdout,
    );
    expect(j.gallery).toBe(15);
    expect(j.matches).toHaveLength(15);
    expect(j.matches.slice(0, 3).map((m: { class: string }) => m.class)).toEqual([
      'circle',
      'circle',
      'circle',
    ]);
    expect(j.matches[0].probability).toBeCloseTo(SAME, 5);
  });

  it('embeds a flat folder, a CSV of pairs, and skips unreadable images when asked', async () => {
    const flat = join(tmp.path, 'flat.safetensors');
    expect((await siameseCli(['embed', model, join(FIXTURES, 'broken/good'), '--out', flat])).code).toBe(0);
    expect((await loadEmbeddings(flat)).items.map((i) => i.id)).toEqual(['a.png', 'b.png']);
    expect((await loadEmbeddings(flat)).items[0]).not.toHaveProperty('class');

    const csv = join(tmp.path, 'csv.safetensors');
    const r = await siameseCli([
      'embed',
      model,
      '--data',
      join(FIXTURES, 'pairs/pairs.csv'),
      '--out',
      csv,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ out: csv, images: 6, embeddingSize: 64 });

    const bad = join(FIXTURES, 'broken/bad');
    const fails = await siameseCli(['embed', model, bad, '--out', join(tmp.path, 'bad.safetensors')]);
    expect(fails.code).toBe(2);
    expect(fails.errLines).toEqual([
      expect.stringMatching(/^siamese embed: dataset: .*broken\/bad\/text\.jpg: not an image/),
    ]);
    const skips = await siameseCli([
      'embed',
      model,
      bad,
      '--out',
      join(tmp.path, 'bad.safetensors'),
      '--skip-invalid',
    ]);
    expect(skips.code).toBe(0);
    expect(skips.errLines).toHaveLength(3);
    for (const line of skips.errLines) expect(line).toMatch(/^warning: dataset: .*\((skipped)\)$/);
    expect((await loadEmbeddings(join(tmp.path, 'bad.safetensors'))).items.map((i) => i.id)).toEqual([
      'ok.png',
    ]);
  });

  it('refuses an index from another model, a file that is not an index, and bad flags', async () => {
    const other = await makeModel(join(tmp.path, 'other'), { head: 'distance', seed: 2 });
    const query = join(FIXTURES, 'folder/circle/circle-1.png');
    for (const [args, message] of [
      [['search', other, query, '--index', index], /was embedded by another model/],
      [
        ['search', model, query, '--index', join(model, 'weights.safetensors')],
        /^siamese search: index: .*weights\.safetensors: not an embeddings file/,
      ],
      [['search', model, query], /needs --index FILE/],
      [['search', model, query, '--index', index, '--top', '0'], /--top must be a positive integer, got '0'/],
      [['embed', model, gallery], /needs --out FILE/],
      [['embed', model, gallery, '--data', 'mnist', '--out', 'x'], /give FOLDER or --data, not both/],
      [['embed', model, '--out', 'x'], /needs FOLDER or --data SOURCE/],
      [['embed', model, gallery, '--out', tmp.path], /is a folder; name the embeddings file/],
    ] as const) {
      const r = await siameseCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.errLines).toEqual([expect.stringMatching(message)]);
    }
  });
});

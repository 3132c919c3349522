/** `siamese lint DATA`: the problems datasets' lint finds, a summary, and a linter's exit codes. */
import { join } from 'node:path';
import { imageFolder, splitDataset, writeManifest } from '@siamese/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, siameseCli, tempDir } from '../test/cli.js';

describe('siamese lint (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const duplicates = join(FIXTURES, 'duplicates');

  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(() => tmp.remove());

  it('a clean source: the summary, exit 0', async () => {
    const r = await siameseCli(['lint', 'mnist:0-1']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '2128 images, 2 classes: 0 errors, 0 warnings\n', '']);
  });

  it('identical images in two classes: a warning, exit 0; exit 1 past --max-warnings', async () => {
    const warning = 'warning: dataset: identical images in different classes: x/a.png [x], y/c.png [y]';
    const summary = '4 images, 2 classes: 0 errors, 1 warning';
    const r = await siameseCli(['lint', duplicates]);
    expect([r.code, r.stdout.split('\n'), r.stderr]).toEqual([0, [warning, summary, ''], '']);
    const strict = await siameseCli(['lint', duplicates, '--max-warnings', '0']);
    expect([strict.code, strict.stdout.split('\n')]).toEqual([
      1,
      [warning, summary, 'too many warnings: 1 (--max-warnings 0)', ''],
    ]);
    expect((await siameseCli(['lint', duplicates, '--max-warnings', '1'])).code).toBe(0);
  });

  it('names every unreadable image, exit 1', async () => {
    const bad = join(FIXTURES, 'broken/bad');
    const r = await siameseCli(['lint', join(FIXTURES, 'broken')]);
    expect(r.code).toBe(1);
    // sharp's own words for a truncated file vary; the file names and ours do not.
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `error: dataset: ${bad}/text.jpg: not an image sharp can read (38 bytes; Input file contains unsupported image format)`,
      expect.stringMatching(/^error: dataset: .*\/broken\/bad\/truncated\.png: corrupt or truncated image/),
      `error: dataset: ${bad}/zero.png: empty file (0 bytes), not an image`,
      '6 images, 2 classes: 3 errors, 0 warnings',
    ]);
  });

  it('every missing file of a CSV of pairs, not only the first', async () => {
    const r = await siameseCli(['lint', join(FIXTURES, 'pairs/missing.csv')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error: dataset: .*missing\.csv:2: 'people\/dan\/1\.png' does not exist/);
  });

  it('--split: an image in two parts is an error; --json', async () => {
    const split = join(tmp.path, 'split.json');
    const ds = await imageFolder(duplicates);
    await writeManifest(
      split,
      splitDataset(ds, { by: 'class', seed: 1, fractions: { train: 1, test: 1 } }).manifest,
    );
    const r = await siameseCli(['lint', duplicates, '--split', split, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      data: duplicates,
      split,
      ok: false,
      images: 4,
      classes: 2,
      errors: 1,
      warnings: 0,
    });
    expect(j.issues.map((i: { code: string }) => i.code)).toEqual(['duplicate-across-splits']);
  });

  it('what cannot be linted: one line, exit 2', async () => {
    const gone = join(tmp.path, 'gone');
    for (const [args, message] of [
      [['lint'], 'siamese lint: needs DATA'],
      [
        ['lint', gone],
        `siamese lint: data '${gone}': no such file or folder (expected 'mnist', a folder of images or a CSV of pairs)`,
      ],
      [['lint', duplicates, '--data', 'mnist'], 'siamese lint: unknown option --data'],
    ] as const) {
      const r = await siameseCli(args);
      expect([r.code, r.stdout, r.errLines]).toEqual([2, '', [message]]);
    }
  });
});

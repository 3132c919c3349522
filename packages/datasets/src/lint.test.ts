import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatLint, lint } from './lint.js';
import { imageFolder } from './sources/image-folder.js';
import { mnist } from './sources/mnist.js';
import { splitDataset } from './split.js';

const FIX = fileURLToPath(new URL('./__fixtures__/', import.meta.url));

describe('lint', () => {
  it('names every corrupt, truncated, empty and non-image file, and the one-image class', async () => {
    const report = await lint(await imageFolder(`${FIX}broken`, { check: 'none' }));
    expect(report.ok).toBe(false);
    expect(report.issues.map((i) => [i.severity, i.code, i.file])).toEqual([
      ['error', 'invalid-image', `${FIX}broken/bad/text.jpg`],
      ['error', 'invalid-image', `${FIX}broken/bad/truncated.png`],
      ['error', 'invalid-image', `${FIX}broken/bad/zero.png`],
    ]);
    const skipped = await lint(await imageFolder(`${FIX}broken`, { skipInvalid: true, check: 'full' }));
    expect(skipped.issues.map((i) => i.code)).toEqual([
      'invalid-image',
      'invalid-image',
      'invalid-image',
      'single-image-class',
    ]);
    const lines = formatLint(skipped).split('\n');
    // sharp's own words for the truncation vary with timing; ours do not.
    expect(lines[1]).toMatch(
      new RegExp(
        `^error: dataset: ${FIX}broken/bad/truncated\\.png: corrupt or truncated image \\(.+\\) \\(skipped\\)$`,
      ),
    );
    expect(lines.filter((_, i) => i !== 1)).toEqual([
      `error: dataset: ${FIX}broken/bad/text.jpg: not an image sharp can read (38 bytes; Input file contains unsupported image format) (skipped)`,
      `error: dataset: ${FIX}broken/bad/zero.png: empty file (0 bytes), not an image (skipped)`,
      "warning: dataset: class 'bad' has one image (bad/ok.png): it cannot give a positive pair",
      '3 images, 2 classes: 3 errors, 1 warning',
    ]);
  });

  it('a clean folder passes with its warnings', async () => {
    const report = await lint(await imageFolder(`${FIX}folder`));
    expect(report.ok).toBe(true);
    expect(report.issues.map((i) => i.code)).toEqual(['ignored-file', 'single-image-class']);
    expect([report.images, report.classes]).toEqual([10, 4]);
  });

  it('finds exact duplicates by hash: across classes, and across split parts as an error', async () => {
    const ds = await imageFolder(`${FIX}duplicates`);
    const report = await lint(ds);
    expect(report.issues.map((i) => [i.severity, i.code, i.message])).toEqual([
      [
        'warning',
        'duplicate-labels',
        'dataset: identical images in different classes: x/a.png [x], y/c.png [y]',
      ],
    ]);
    const split = splitDataset(ds, { by: 'class', seed: 1, fractions: { train: 1, test: 1 } });
    const across = await lint(split);
    expect(across.ok).toBe(false);
    const dup = across.issues.find((i) => i.code === 'duplicate-across-splits');
    expect(dup?.message).toMatch(
      /^dataset: identical images in different split parts: (x\/a\.png \(train\), y\/c\.png \(test\)|x\/a\.png \(test\), y\/c\.png \(train\))/,
    );
  });

  it('hashes in-memory pixels too (MNIST ships none twice among these)', async () => {
    const report = await lint(await mnist({ perClass: 20 }));
    expect(report.issues).toEqual([]);
    expect(report.images).toBe(200);
  });
});

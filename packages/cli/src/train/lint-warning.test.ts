import { fileURLToPath } from 'node:url';
import { imageFolder, mnist, splitDataset } from '@siamese/datasets';
import { describe, expect, it } from 'vitest';
import { duplicateWarnings } from './lint-warning.js';

const DUPLICATES = fileURLToPath(new URL('../../../datasets/src/__fixtures__/duplicates', import.meta.url));

describe('duplicateWarnings', () => {
  it('one line per group of identical images in different classes', async () => {
    const ds = await imageFolder(DUPLICATES);
    expect(await duplicateWarnings(ds, DUPLICATES)).toEqual([
      'warning: dataset: identical images in different classes: x/a.png [x], y/c.png [y]',
    ]);
  });

  it('and in different parts of the split', async () => {
    const split = splitDataset(await imageFolder(DUPLICATES), {
      by: 'class',
      seed: 1,
      fractions: { train: 1, test: 1 },
    });
    const [line, ...rest] = await duplicateWarnings(split, DUPLICATES);
    expect(rest).toEqual([]);
    expect(line).toMatch(/^warning: dataset: identical images in different split parts: /);
  });

  it('at most `max` lines, then how many more', async () => {
    const ds = await imageFolder(DUPLICATES);
    // Every file again in the other class: three groups of identical images across classes.
    const swapped = ds.items.map((it) => {
      const label = 1 - it.label;
      return { ...it, id: `copy/${it.id}`, label, className: ds.classes[label] as string };
    });
    const lines = await duplicateWarnings({ ...ds, items: [...ds.items, ...swapped] }, 'photos', 1);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('warning: ... and 2 more groups of identical images (siamese lint photos)');
  });

  it('nothing for MNIST', async () => {
    expect(await duplicateWarnings(await mnist(), 'mnist')).toEqual([]);
  });
});

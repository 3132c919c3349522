import { describe, expect, it } from 'vitest';
import type { Dataset, Item } from '../dataset.js';
import { MPerClassSampler } from './m-per-class.js';

function synthetic(sizes: number[]): Dataset {
  const items: Item[] = [];
  sizes.forEach((n, c) => {
    for (let k = 0; k < n; k++) items.push({ id: `c${c}/${k}`, label: c, className: `c${c}` });
  });
  return { name: 'synthetic', classes: sizes.map((_, c) => `c${c}`), items, warnings: [] };
}

describe('MPerClassSampler', () => {
  const ds = synthetic([6, 4, 1, 3, 8, 5]);

  it('gives batchSize / m distinct classes with m images each, class-major', () => {
    const s = new MPerClassSampler(ds, { m: 4, batchSize: 12, seed: 1 });
    expect(s.excluded).toEqual([2]);
    for (let b = 0; b < 30; b++) {
      const batch = s.next();
      expect(batch).toHaveLength(12);
      const classes = [0, 1, 2].map((k) => ds.items[batch[k * 4] as number]?.label);
      expect(new Set(classes).size).toBe(3);
      expect(classes).not.toContain(2);
      for (let k = 0; k < 3; k++) {
        const group = batch.slice(k * 4, k * 4 + 4);
        expect(group.every((i) => ds.items[i]?.label === classes[k])).toBe(true);
        // Distinct images where the class has enough; the 3-image class uses all 3 before repeating.
        expect(new Set(group).size).toBe(
          Math.min(4, ds.items.filter((it) => it.label === classes[k]).length),
        );
      }
    }
  });

  it('is seeded', () => {
    const run = (seed: number) => {
      const s = new MPerClassSampler(ds, { m: 2, batchSize: 8, seed });
      return [s.next(), s.next()];
    };
    expect(run(4)).toEqual(run(4));
    expect(run(4)).not.toEqual(run(5));
  });

  it('says what is wrong with the options or the data', () => {
    expect(() => new MPerClassSampler(ds, { m: 4, batchSize: 10, seed: 1 })).toThrow(
      'dataset: m-per-class: batchSize must be a multiple of m = 4, got 10',
    );
    expect(() => new MPerClassSampler(ds, { m: 1, batchSize: 10, seed: 1 })).toThrow(
      'm must be an integer >= 2, got 1',
    );
    expect(() => new MPerClassSampler(ds, { m: 2, batchSize: 12, seed: 1 })).toThrow(
      "dataset: m-per-class: a batch of 12 with m = 2 needs 6 classes of two or more images; 'synthetic' has 5",
    );
  });
});

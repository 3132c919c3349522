import { describe, expect, it } from 'vitest';
import type { Dataset, Item } from '../dataset.js';
import { semiHardTriplets, TripletSampler } from './triplets.js';

function synthetic(sizes: number[]): Dataset {
  const items: Item[] = [];
  sizes.forEach((n, c) => {
    for (let k = 0; k < n; k++) items.push({ id: `c${c}/${k}`, label: c, className: `c${c}` });
  });
  return { name: 'synthetic', classes: sizes.map((_, c) => `c${c}`), items, warnings: [] };
}

describe('random triplets', () => {
  it('anchor and positive share a class (distinct images), the negative does not; seeded', () => {
    const ds = synthetic([4, 1, 3, 2]);
    const t = new TripletSampler(ds, { seed: 1 }).next(500);
    for (const { anchor, positive, negative } of t) {
      expect(anchor).not.toBe(positive);
      expect(ds.items[anchor]?.label).toBe(ds.items[positive]?.label);
      expect(ds.items[negative]?.label).not.toBe(ds.items[anchor]?.label);
    }
    expect(new TripletSampler(ds, { seed: 1 }).next(20)).toEqual(t.slice(0, 20));
    expect(new TripletSampler(ds, { seed: 2 }).next(20)).not.toEqual(t.slice(0, 20));
    expect(() => new TripletSampler(synthetic([1, 1]), { seed: 1 })).toThrow(
      'no anchor-positive pair exists',
    );
  });
});

describe('semi-hard triplets', () => {
  // 1-D embeddings: anchor 0 at 0, its positive 1 at 1; negatives at 0.5 (hard), 1.1 (semi-hard),
  // 1.15 (semi-hard, farther), 3 (easy).
  const x = Float32Array.from([0, 1, 0.5, 1.1, 1.15, 3]);
  const labels = [0, 0, 1, 1, 2, 2];

  it('picks the closest negative farther than the positive, within the margin', () => {
    const t = semiHardTriplets({ data: x, dim: 1 }, labels, { margin: 0.2 });
    expect(t.find((q) => q.anchor === 0 && q.positive === 1)?.negative).toBe(3);
  });

  it('falls back to the hardest negative, or skips', () => {
    const t = semiHardTriplets({ data: x, dim: 1 }, labels, { margin: 0.05 });
    expect(t.find((q) => q.anchor === 0 && q.positive === 1)?.negative).toBe(2);
    const skipped = semiHardTriplets({ data: x, dim: 1 }, labels, { margin: 0.05, fallback: 'skip' });
    expect(skipped.find((q) => q.anchor === 0 && q.positive === 1)).toBeUndefined();
  });

  it('takes a core [N, D] tensor, one triplet per ordered anchor-positive pair', () => {
    const data = Float32Array.from([0, 0, 1, 0, 0, 1, 1, 1]);
    const t = semiHardTriplets({ dtype: 'float32', shape: [4, 2], data }, [0, 0, 1, 1]);
    expect(t.map((q) => [q.anchor, q.positive])).toEqual([
      [0, 1],
      [1, 0],
      [2, 3],
      [3, 2],
    ]);
    for (const q of t) expect(labels[q.negative]).toBeDefined();
    expect(() => semiHardTriplets({ dtype: 'float32', shape: [4, 2], data }, [0, 0, 1])).toThrow(
      'dataset: semi-hard: 3 labels but 4 embedding rows',
    );
  });
});

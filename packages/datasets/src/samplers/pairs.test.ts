import { describe, expect, it } from 'vitest';
import type { Dataset, Item } from '../dataset.js';
import { ListedPairs, PairSampler, samplePairs } from './pairs.js';

function synthetic(sizes: number[], groups?: string[]): Dataset {
  const items: Item[] = [];
  sizes.forEach((n, c) => {
    for (let k = 0; k < n; k++) {
      items.push({
        id: `c${c}/${k}`,
        label: c,
        className: `c${c}`,
        ...(groups ? { group: groups[c] as string } : {}),
      });
    }
  });
  return { name: 'synthetic', classes: sizes.map((_, c) => `c${c}`), items, warnings: [] };
}

describe('PairSampler', () => {
  const ds = synthetic([5, 3, 1, 8, 2]);

  it('gives exactly half positives per batch, labelled right, never an image with itself', () => {
    const s = new PairSampler(ds, { seed: 1 });
    for (let b = 0; b < 50; b++) {
      const pairs = s.next(32);
      expect(pairs.filter((p) => p.same === 1)).toHaveLength(16);
      for (const p of pairs) {
        const [a, c] = [ds.items[p.a] as Item, ds.items[p.b] as Item];
        expect(p.same).toBe(a.label === c.label ? 1 : 0);
        expect(p.a).not.toBe(p.b);
      }
    }
    expect(s.next(7).filter((p) => p.same).length).toBe(4); // round(3.5)
    expect(
      new PairSampler(ds, { seed: 1, positiveFraction: 0.25 }).next(16).filter((p) => p.same),
    ).toHaveLength(4);
  });

  it('keeps the one-image class out of positives but uses it in negatives', () => {
    const s = new PairSampler(ds, { seed: 2 });
    expect(s.singleImageClasses).toEqual(['c2']);
    const pairs = s.next(2000);
    const touches = (p: { a: number; b: number }) => ds.items[p.a]?.label === 2 || ds.items[p.b]?.label === 2;
    expect(pairs.some((p) => p.same === 1 && touches(p))).toBe(false);
    expect(pairs.some((p) => p.same === 0 && touches(p))).toBe(true);
  });

  it('draws classes uniformly: every positive class and every class pair shows up', () => {
    const pairs = new PairSampler(ds, { seed: 3 }).next(4000);
    const pos = new Map<number, number>();
    for (const p of pairs.filter((q) => q.same)) {
      const c = ds.items[p.a]?.label as number;
      pos.set(c, (pos.get(c) ?? 0) + 1);
    }
    // 4 eligible classes, 2000 positives: about 500 each.
    for (const c of [0, 1, 3, 4]) expect(Math.abs((pos.get(c) ?? 0) - 500)).toBeLessThan(100);
  });

  it('same seed, same pairs; different seed, different pairs', () => {
    expect(samplePairs(ds, 64, { seed: 42 })).toEqual(samplePairs(ds, 64, { seed: 42 }));
    expect(samplePairs(ds, 64, { seed: 42 })).not.toEqual(samplePairs(ds, 64, { seed: 43 }));
    const s = new PairSampler(ds, { seed: 42 });
    expect(s.next(8)).not.toEqual(s.next(8)); // the stream moves on
  });

  it('same-group negatives stay in their group', () => {
    const grouped = synthetic([3, 3, 3, 3], ['A', 'A', 'B', 'B']);
    const pairs = new PairSampler(grouped, { seed: 5, negatives: 'same-group' }).next(200);
    for (const p of pairs.filter((q) => !q.same))
      expect(grouped.items[p.a]?.group).toBe(grouped.items[p.b]?.group);
  });

  it('says why it cannot draw', () => {
    expect(() => new PairSampler(synthetic([1, 1, 1]), { seed: 1 })).toThrow(
      "dataset: pairs: no class of 'synthetic' has two images, so no positive pair can be drawn (3 classes of one image)",
    );
    expect(() => new PairSampler(synthetic([4]), { seed: 1 })).toThrow(
      "dataset: pairs: 'synthetic' has 1 class, so no negative pair can be drawn",
    );
    expect(() => new PairSampler(ds, { seed: 1, negatives: 'same-group' })).toThrow(
      'needs a group with two classes',
    );
    expect(() => new PairSampler(ds, { seed: 1.5 })).toThrow('dataset: seed must be an integer, got 1.5');
  });
});

describe('ListedPairs', () => {
  it('reshuffles the explicit pairs each epoch, the same way for the same seed', () => {
    const pairs = Array.from({ length: 20 }, (_, i) => ({ a: i, b: i + 1, same: (i % 2) as 0 | 1 }));
    const a = new ListedPairs(pairs, 1);
    const b = new ListedPairs(pairs, 1);
    const e1 = a.nextEpoch();
    expect(e1).toEqual(b.nextEpoch());
    expect([...e1].sort((x, y) => x.a - y.a)).toEqual(pairs);
    expect(a.nextEpoch()).not.toEqual(e1);
  });
});

/** The one dropout rule every backend feeds: masks as a function of (seed, step, input) only. */
import { describe, expect, it } from 'vitest';
import { dropoutMasks, maskDims } from './dropout-mask.js';

const masks = [
  { input: 'dropoutMask:head.2', shape: ['N', 64] as const, p: 0.5 },
  { input: 'dropoutMask:head.5', shape: ['N', 16] as const, p: 0.25 },
];

describe('dropoutMasks', () => {
  it('draws 0 or 1 / (1 - p), about p of them 0, shaped like the activation for the batch', () => {
    const m = dropoutMasks(masks, { seed: 3, step: 1, batch: 32 });
    const a = m.get('dropoutMask:head.2')!;
    expect(a.shape).toEqual([32, 64]);
    expect(new Set(a.data)).toEqual(new Set([0, 2]));
    const zeros = a.data.filter((v) => v === 0).length / a.data.length;
    expect(zeros).toBeGreaterThan(0.45);
    expect(zeros).toBeLessThan(0.55);
    expect(new Set(m.get('dropoutMask:head.5')!.data)).toEqual(new Set([0, Math.fround(1 / 0.75)]));
  });

  it('depends on seed, step and input only: a resumed run draws the same masks', () => {
    const once = dropoutMasks(masks, { seed: 3, step: 7, batch: 4 });
    const again = dropoutMasks(masks, { seed: 3, step: 7, batch: 4 });
    const next = dropoutMasks(masks, { seed: 3, step: 8, batch: 4 });
    const other = dropoutMasks(masks, { seed: 4, step: 7, batch: 4 });
    const data = (m: typeof once) => [...m.get('dropoutMask:head.2')!.data];
    expect(data(again)).toEqual(data(once));
    expect(data(next)).not.toEqual(data(once));
    expect(data(other)).not.toEqual(data(once));
    expect([...once.get('dropoutMask:head.5')!.data]).not.toEqual(data(once).slice(0, 64));
  });

  it('names an unknown symbolic dimension', () => {
    expect(maskDims(['N', 3], 5, 'm')).toEqual([5, 3]);
    expect(() => maskDims(['B', 3], 5, 'm')).toThrow(
      /dropout mask 'm' has an unknown symbolic dimension 'B'/,
    );
  });
});

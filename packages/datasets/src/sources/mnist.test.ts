import { describe, expect, it } from 'vitest';
import { mnist } from './mnist.js';

describe('mnist', () => {
  it('has the 10,000 digits of the mnist package, 28x28 in memory, labelled by digit', async () => {
    const ds = await mnist();
    expect(ds.items).toHaveLength(10000);
    expect(ds.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const counts = ds.classes.map((_, d) => ds.items.filter((i) => i.label === d).length);
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    const first = ds.items[0];
    expect(first?.id).toBe('mnist/0/0000');
    expect(first?.path).toBeUndefined();
    expect([first?.pixels?.width, first?.pixels?.height, first?.pixels?.channels]).toEqual([28, 28, 1]);
    // Real strokes: mostly black background, some near-white ink.
    const data = first?.pixels?.data as Uint8Array;
    expect(data.filter((v) => v === 0).length).toBeGreaterThan(400);
    expect(Math.max(...data)).toBeGreaterThan(240);
    expect(new Set(ds.items.map((i) => i.id)).size).toBe(10000);
  });

  it('can take some digits and a few per digit', async () => {
    const ds = await mnist({ digits: [7, 1], perClass: 5 });
    expect(ds.items.map((i) => i.id)).toEqual([
      'mnist/1/0000',
      'mnist/1/0001',
      'mnist/1/0002',
      'mnist/1/0003',
      'mnist/1/0004',
      'mnist/7/0000',
      'mnist/7/0001',
      'mnist/7/0002',
      'mnist/7/0003',
      'mnist/7/0004',
    ]);
    await expect(mnist({ digits: [10] })).rejects.toThrow('dataset: mnist: digits must be 0-9, got 10');
    await expect(mnist({ perClass: 0 })).rejects.toThrow(
      'dataset: mnist: perClass must be a positive integer, got 0',
    );
  });
});

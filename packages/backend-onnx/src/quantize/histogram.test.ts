/** One-pass histograms and the thresholds read from them: percentile and TensorRT-style entropy. */
import { Random } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { ValueCollector } from './collector.js';
import { entropyRange, entropyThreshold } from './entropy.js';
import { MagnitudeHistogram } from './histogram.js';
import { percentileRange } from './percentile.js';

describe('MagnitudeHistogram', () => {
  it('doubles its range by merging bin pairs, counting every value once', () => {
    const h = new MagnitudeHistogram(8);
    h.reach(1);
    for (const v of [0.1, 0.3, 0.99, 1]) h.add(v);
    expect(Array.from(h.counts)).toEqual([1, 0, 1, 0, 0, 0, 0, 2]);
    h.reach(3.5);
    expect(h.limit).toBe(4);
    h.add(3.5);
    // Bin width 0.5: 0.1 and 0.3, then 0.99 and 1 (the old last bin, [0.875, 1]), then 3.5.
    expect(Array.from(h.counts)).toEqual([2, 2, 0, 0, 0, 0, 0, 1]);
    expect(h.total).toBe(5);
    expect(h.occupied()).toBe(8);
  });

  it('needs an even number of bins', () => {
    expect(() => new MagnitudeHistogram(7)).toThrow(/even integer/);
  });
});

function collect(values: number[], bins = 2048): ValueCollector {
  const c = new ValueCollector('x', bins);
  // Two batches: the second widens the range.
  c.add(Float32Array.from(values.slice(0, values.length / 2)));
  c.add(Float32Array.from(values.slice(values.length / 2)));
  return c;
}

describe('percentileRange', () => {
  it('cuts (100 - p) / 2 percent of all values from each tail, at bin edges', () => {
    // 0..999 then -1..-1000 shuffled into two batches: 2000 values, 99% keeps all but 10 per tail.
    const values = Array.from({ length: 1000 }, (_, i) => [i, -(i + 1)]).flat();
    const r = percentileRange(collect(values), 99);
    expect(r.max).toBeGreaterThanOrEqual(989);
    expect(r.max).toBeLessThan(990.5);
    expect(r.min).toBeLessThanOrEqual(-990);
    expect(r.min).toBeGreaterThan(-991.5);
  });

  it('never goes past the observed min and max', () => {
    const c = collect([0.5, 1, 2, 3]);
    expect(percentileRange(c, 100)).toEqual({ min: 0.5, max: 3 });
  });
});

describe('entropy (KL) thresholds', () => {
  const rng = new Random(4);
  const gaussian = Array.from({ length: 200_000 }, () => Math.abs(rng.normal()));

  it('clips rare far outliers of a Gaussian, keeping its body', () => {
    const c = collect([...gaussian, 40, 45, 50]);
    const t = entropyThreshold(c.positive!, 128);
    expect(t).toBeGreaterThan(3);
    expect(t).toBeLessThan(20);
    // One-sided: all 256 uint8 codes are available, so the search uses 256 levels.
    expect(entropyRange(c).max).toBe(entropyThreshold(c.positive!, 256));
  });

  it('keeps the whole range of a uniform distribution, which has no tail', () => {
    const uniform = Array.from({ length: 100_000 }, (_, i) => (i + 1) / 100_000);
    const c = collect(uniform);
    expect(entropyThreshold(c.positive!, 128)).toBeGreaterThan(0.97);
  });

  it('searches each sign with 128 levels when a tensor has both', () => {
    const c = collect([...gaussian.map((v, i) => (i % 2 ? v : -v)), -60, 60]);
    const r = entropyRange(c);
    expect(r.max).toBe(entropyThreshold(c.positive!, 128));
    expect(r.min).toBe(-entropyThreshold(c.negative!, 128));
    expect(r.max).toBeLessThan(20);
  });
});

describe('ValueCollector', () => {
  it('refuses NaN and infinities, naming the value', () => {
    expect(() => new ValueCollector('a/relu').add(Float32Array.of(1, Number.NaN))).toThrow(
      /'a\/relu' has non-finite/,
    );
    expect(() => new ValueCollector('b').add(Float32Array.of(Number.POSITIVE_INFINITY))).toThrow(
      /non-finite/,
    );
  });
});

/**
 * Entropy calibration as TensorRT describes it: among thresholds at the histogram's bin edges,
 * pick the one where the clipped distribution P (values beyond folded into the last bin) and its
 * `levels`-level quantization Q (each group of bins spread evenly over its non-empty bins) are
 * closest in KL divergence. With prefix sums each candidate costs O(levels), not O(bins).
 */
import type { ValueCollector } from './collector.js';
import type { MagnitudeHistogram } from './histogram.js';
import type { Range } from './params.js';

/**
 * Levels the quantized candidate has: TensorRT's 128 (int8, one sign) for each side of a tensor
 * with both signs; all 256 uint8 codes when one side is empty (after a Relu, zero point 0).
 */
export const ENTROPY_LEVELS = { perSign: 128, oneSided: 256 } as const;

/** Stands in for Q = 0 where P > 0 (mass clipped into an empty group): a heavy, finite penalty. */
const EMPTY_Q = 1e-12;

export function entropyRange(c: ValueCollector): Range {
  const pos = c.positive!;
  const neg = c.negative!;
  const levels = pos.total > 0 && neg.total > 0 ? ENTROPY_LEVELS.perSign : ENTROPY_LEVELS.oneSided;
  return {
    min: neg.total > 0 ? Math.max(c.min, -entropyThreshold(neg, levels)) : c.min,
    max: pos.total > 0 ? Math.min(c.max, entropyThreshold(pos, levels)) : c.max,
  };
}

/** The magnitude threshold for one side's histogram. */
export function entropyThreshold(h: MagnitudeHistogram, levels: number): number {
  const n = h.occupied();
  if (n <= levels) return n * h.width;
  const counts = h.counts;
  // Prefix sums over [0, i): counts, non-empty bins, c log c.
  const mass = new Float64Array(n + 1);
  const nonEmpty = new Float64Array(n + 1);
  const cLogC = new Float64Array(n + 1);
  for (let j = 0; j < n; j++) {
    const c = counts[j]!;
    mass[j + 1] = mass[j]! + c;
    nonEmpty[j + 1] = nonEmpty[j]! + (c > 0 ? 1 : 0);
    cLogC[j + 1] = cLogC[j]! + xLogX(c);
  }
  const total = mass[n]!;
  let best = Number.POSITIVE_INFINITY;
  let bestBins = n;
  for (let i = levels; i <= n; i++) {
    const outliers = total - mass[i]!;
    const lastP = counts[i - 1]! + outliers;
    const pLogP = cLogC[i - 1]! + xLogX(lastP);
    const kept = mass[i]!;
    // Sum over bins with P > 0 of P * log q; q is constant within a group.
    let cross = 0;
    for (let g = 0; g < levels; g++) {
      const lo = Math.floor((g * i) / levels);
      const hi = Math.floor(((g + 1) * i) / levels);
      const groupQ = mass[hi]! - mass[lo]!;
      let groupP = groupQ;
      let spread = nonEmpty[hi]! - nonEmpty[lo]!;
      if (g === levels - 1 && outliers > 0) {
        groupP += outliers;
        if (counts[i - 1] === 0) spread++;
      }
      if (groupP === 0) continue;
      const q = groupQ > 0 ? groupQ / spread / kept : EMPTY_Q;
      cross += groupP * Math.log(q);
    }
    const kl = (pLogP - cross) / total - Math.log(total);
    if (kl < best) {
      best = kl;
      bestBins = i;
    }
  }
  return bestBins * h.width;
}

function xLogX(x: number): number {
  return x > 0 ? x * Math.log(x) : 0;
}

/**
 * Percentile calibration: the range that leaves out (100 - p)% of all observed values, half from
 * each tail, at histogram bin edges (rounding outwards) and never beyond the observed min and max.
 */
import type { ValueCollector } from './collector.js';
import type { MagnitudeHistogram } from './histogram.js';
import type { Range } from './params.js';

export function percentileRange(c: ValueCollector, percentile: number): Range {
  const cut = (c.count * (100 - percentile)) / 200;
  const hi = tailEdge(c.positive!, cut);
  const lo = tailEdge(c.negative!, cut);
  return { min: Math.max(c.min, -lo), max: Math.min(c.max, hi) };
}

/** The lowest bin edge with at most `cut` values above it; 0 when the whole side fits in the tail. */
function tailEdge(h: MagnitudeHistogram, cut: number): number {
  if (h.total <= cut) return 0;
  let above = 0;
  for (let k = h.bins - 1; k >= 0; k--) {
    const n = h.counts[k]!;
    if (above + n > cut) return (k + 1) * h.width;
    above += n;
  }
  return 0;
}

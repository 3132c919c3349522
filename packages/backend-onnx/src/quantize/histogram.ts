/**
 * A histogram of magnitudes in one pass over batches of unknown range: `bins` equal bins over
 * [0, limit), where the first values set the limit and a larger value doubles it (adjacent bins
 * merge in pairs, exactly). At least half the bins cover the observed values. Deterministic.
 */
export class MagnitudeHistogram {
  readonly counts: Float64Array;
  /** Upper edge of the last bin; 0 until a value arrives. */
  limit = 0;
  total = 0;

  constructor(readonly bins: number) {
    if (!Number.isInteger(bins) || bins < 2 || bins % 2 !== 0) {
      throw new Error(`histogram bins must be an even integer >= 2, got ${bins}`);
    }
    this.counts = new Float64Array(bins);
  }

  get width(): number {
    return this.limit / this.bins;
  }

  /** Makes room for magnitudes up to `peak` (> 0); call before `add`ing them. */
  reach(peak: number): void {
    if (this.limit === 0) {
      this.limit = peak;
      return;
    }
    const half = this.bins / 2;
    while (this.limit < peak) {
      for (let j = 0; j < half; j++) this.counts[j] = this.counts[2 * j]! + this.counts[2 * j + 1]!;
      this.counts.fill(0, half);
      this.limit *= 2;
    }
  }

  /** Counts one magnitude in (0, limit]; the limit itself falls in the last bin. */
  add(v: number): void {
    this.counts[Math.min(this.bins - 1, Math.floor((v / this.limit) * this.bins))]!++;
    this.total++;
  }

  /** Index of the last non-empty bin plus one (0 when empty). */
  occupied(): number {
    let n = this.bins;
    while (n > 0 && this.counts[n - 1] === 0) n--;
    return n;
  }
}

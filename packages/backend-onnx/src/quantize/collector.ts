/**
 * Everything calibration keeps about one value across batches: exact min and max, and for the
 * histogram methods the magnitudes of positive and negative values in separate histograms (one
 * side is empty after a Relu, so neither wastes bins). Exact zeros are only counted: a zero point
 * represents them whatever the range.
 */
import { MagnitudeHistogram } from './histogram.js';

export class ValueCollector {
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  count = 0;
  zeros = 0;
  readonly positive?: MagnitudeHistogram;
  readonly negative?: MagnitudeHistogram;

  /** `bins` undefined: min and max only. */
  constructor(
    readonly name: string,
    bins?: number,
  ) {
    if (bins !== undefined) {
      this.positive = new MagnitudeHistogram(bins);
      this.negative = new MagnitudeHistogram(bins);
    }
  }

  add(data: Float32Array): void {
    let [lo, hi, nan] = [this.min, this.max, false];
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (Number.isNaN(v)) nan = true;
    }
    if (nan || !(Number.isFinite(lo) && Number.isFinite(hi))) {
      throw new Error(`calibrate: '${this.name}' has non-finite values (NaN or infinity); check the images`);
    }
    [this.min, this.max] = [lo, hi];
    this.count += data.length;
    const { positive: pos, negative: neg } = this;
    if (!pos || !neg) return;
    if (hi > 0) pos.reach(hi);
    if (lo < 0) neg.reach(-lo);
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v > 0) pos.add(v);
      else if (v < 0) neg.add(-v);
      else this.zeros++;
    }
  }
}

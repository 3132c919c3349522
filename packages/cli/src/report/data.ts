/** Everything the training report shows, gathered by `siamese train` and rendered by html.ts. */

export interface ReportMistake {
  readonly kind: 'false accept' | 'false reject';
  readonly score: number;
  /** PNG thumbnails as data: URLs. */
  readonly a: string;
  readonly b: string;
  readonly aName: string;
  readonly bName: string;
}

export interface SanityCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ReportData {
  readonly title: string;
  readonly createdAt: string;
  /** Rows of the summary table: model, data, backend, time, metrics. */
  readonly summary: readonly (readonly [string, string])[];
  readonly history: readonly {
    readonly epoch: number;
    readonly trainLoss: number;
    readonly valLoss?: number;
    readonly auc?: number;
    readonly accuracy?: number;
    readonly eer?: number;
  }[];
  readonly roc: readonly { readonly far: number; readonly tar: number }[];
  /** Validation scores (match probabilities) of same and different pairs. */
  readonly scores: { readonly same: readonly number[]; readonly different: readonly number[] };
  readonly threshold: number;
  readonly mistakes: readonly ReportMistake[];
  readonly checks: readonly SanityCheck[];
}

/** Counts of `values` in `bins` equal-width bins over [lo, hi]. */
export function histogram(values: readonly number[], bins: number, lo = 0, hi = 1): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const i = Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)));
    counts[i]! += 1;
  }
  return counts;
}

/** At most `max` points of a curve, evenly spaced, first and last kept (ROC curves can have thousands). */
export function thin<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.round((i * (points.length - 1)) / (max - 1))]!);
  return out;
}

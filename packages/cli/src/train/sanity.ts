/**
 * Checks after training that catch a model that only looks trained: score(a, a) at the top of the
 * range, symmetry for symmetric combines, outputs that vary (no collapse), accuracy above chance.
 */
import type { CombineMode } from '@siamese/core';

export interface SanityInput {
  readonly combine: CombineMode;
  /** Scores of validation pairs and their labels. */
  readonly scores: ArrayLike<number>;
  readonly labels: ArrayLike<number>;
  /** score(a, a) for a sample of images. */
  readonly selfScores: ArrayLike<number>;
  /** score(a, b) and score(b, a) for the same sample of pairs. */
  readonly forward: ArrayLike<number>;
  readonly backward: ArrayLike<number>;
  readonly accuracy: number;
  readonly threshold: number;
}

export interface SanityResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const SYMMETRIC: readonly CombineMode[] = ['absdiff', 'euclidean', 'cosine'];

/** Min and max without spreading into Math.min/max (which overflows the stack on large arrays). */
function range(values: ArrayLike<number>): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  return { lo, hi };
}

function quantile(values: ArrayLike<number>, q: number): number {
  const s = Array.from(values).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * (s.length - 1))))] ?? Number.NaN;
}

export function sanityChecks(s: SanityInput): SanityResult[] {
  const out: SanityResult[] = [];
  const selfLow = range(s.selfScores).lo;
  // An image against itself must be judged the same, and score like the better half of real
  // same pairs (with absdiff it is the fixed value head(0), so it cannot beat every same pair).
  const sameQuartile = quantile(
    Array.from(s.scores).filter((_, i) => s.labels[i]! >= 0.5),
    0.25,
  );
  out.push({
    name: 'score(a, a) is at the top',
    ok: selfLow >= s.threshold && selfLow >= sameQuartile - 1e-6,
    detail: `lowest score of an image against itself ${selfLow.toFixed(4)} (threshold ${s.threshold.toFixed(4)}, lower quartile of same pairs ${sameQuartile.toFixed(4)})`,
  });
  let asym = 0;
  for (let i = 0; i < s.forward.length; i++) asym = Math.max(asym, Math.abs(s.forward[i]! - s.backward[i]!));
  const symmetric = SYMMETRIC.includes(s.combine);
  out.push({
    name: 'score(a, b) = score(b, a)',
    ok: !symmetric || asym < 1e-4,
    detail: symmetric
      ? `largest difference ${asym.toExponential(2)}`
      : `combine '${s.combine}' is not symmetric by design (largest difference ${asym.toExponential(2)})`,
  });
  const { lo, hi } = range(s.scores);
  out.push({
    name: 'outputs are not constant',
    ok: hi - lo > 1e-3,
    detail: `validation scores span [${lo.toFixed(4)}, ${hi.toFixed(4)}]`,
  });
  out.push({
    name: 'accuracy is above chance',
    ok: s.accuracy > 0.6,
    detail: `validation pair accuracy ${(s.accuracy * 100).toFixed(2)}%`,
  });
  return out;
}

/**
 * Verification metrics over pair scores (higher = more likely the same) and labels (1 = same):
 * ROC curve and AUC, equal error rate, the threshold for a target false-accept rate, accuracy.
 * For a distance, pass its negation as the score.
 */

export interface RocPoint {
  /** Pairs with score >= threshold are accepted as the same. */
  readonly threshold: number;
  /** False-accept rate: different pairs accepted / different pairs. */
  readonly far: number;
  /** True-accept rate: same pairs accepted / same pairs. */
  readonly tar: number;
}

function counts(labels: ArrayLike<number>): { pos: number; neg: number } {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! >= 0.5) pos++;
  return { pos, neg: labels.length - pos };
}

function check(scores: ArrayLike<number>, labels: ArrayLike<number>): { pos: number; neg: number } {
  if (scores.length !== labels.length)
    throw new Error(`metrics: ${scores.length} scores but ${labels.length} labels`);
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`metrics: score ${i} is NaN`);
  }
  const c = counts(labels);
  if (c.pos === 0 || c.neg === 0)
    throw new Error(`metrics: need both same and different pairs, got ${c.pos} same and ${c.neg} different`);
  return c;
}

/** The ROC curve from the strictest threshold down, one point per distinct score (ties move together). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocPoint[] {
  const { pos, neg } = check(scores, labels);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const points: RocPoint[] = [{ threshold: Infinity, far: 0, tar: 0 }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; ) {
    const s = scores[order[k]!]!;
    while (k < order.length && scores[order[k]!] === s) {
      if (labels[order[k]!]! >= 0.5) tp++;
      else fp++;
      k++;
    }
    points.push({ threshold: s, far: fp / neg, tar: tp / pos });
  }
  return points;
}

/** Area under the ROC curve: the probability that a same pair outscores a different one (ties count half). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const curve = rocCurve(scores, labels);
  let area = 0;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    area += ((b.far - a.far) * (a.tar + b.tar)) / 2;
  }
  return area;
}

/**
 * Equal error rate: where the false-accept rate meets the false-reject rate (1 - TAR), linearly
 * interpolated between ROC points, and the score threshold there.
 */
export function equalErrorRate(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): { eer: number; threshold: number } {
  const curve = rocCurve(scores, labels);
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    const da = a.far - (1 - a.tar);
    const db = b.far - (1 - b.tar);
    if (db >= 0) {
      // Crossing between a (FAR < FRR) and b (FAR >= FRR).
      const t = da === db ? 0 : da / (da - db);
      const eer = a.far + t * (b.far - a.far);
      const threshold = Number.isFinite(a.threshold)
        ? a.threshold + t * (b.threshold - a.threshold)
        : b.threshold;
      return { eer, threshold };
    }
  }
  const last = curve.at(-1)!;
  return { eer: last.far, threshold: last.threshold };
}

/** The lowest threshold whose false-accept rate stays at or below `targetFar` (the most same pairs accepted). */
export function thresholdAtFar(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  targetFar: number,
): RocPoint {
  if (!(targetFar >= 0 && targetFar <= 1))
    throw new Error(`metrics: target false-accept rate must be in [0, 1], got ${targetFar}`);
  const curve = rocCurve(scores, labels);
  let best = curve[0]!;
  for (const p of curve) if (p.far <= targetFar) best = p;
  return best;
}

/** Fraction of pairs decided correctly at `threshold` (score >= threshold means same). */
export function pairAccuracy(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): number {
  if (scores.length !== labels.length)
    throw new Error(`metrics: ${scores.length} scores but ${labels.length} labels`);
  if (scores.length === 0) throw new Error('metrics: no pairs');
  let right = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! >= threshold === labels[i]! >= 0.5) right++;
  return right / scores.length;
}

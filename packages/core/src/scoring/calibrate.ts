/**
 * Calibration after training, the same for every backend: a distance-trained model's head
 * (Linear(1, 1) on the distance) fitted by logistic regression so that it outputs a probability,
 * then the decision threshold on that probability (equal error rate, or a target false-accept rate).
 */
import type { Threshold } from '../artifact/model.js';
import type { Graph } from '../ir/types.js';
import { equalErrorRate, thresholdAtFar } from '../metrics/roc.js';
import type { Tensor } from '../tensor/tensor.js';
import { sigmoid } from './probability.js';
import type { ScoreKind } from './score-kind.js';

/** p = sigmoid(w * x + b) on the head's input x: a distance or a cosine similarity. */
export interface DistanceHead {
  readonly w: number;
  readonly b: number;
}

export interface Calibration {
  readonly threshold: Threshold;
  /** The fitted head of a distance-scored model; absent when the model's scores are probabilities. */
  readonly head?: DistanceHead;
  /** Backend scores (as `pairScores` gives them) as match probabilities. */
  probabilities(scores: ArrayLike<number>): Float32Array;
}

/** The probability threshold for validation probabilities and labels (1 = same). */
export function calibrateThreshold(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  targetFar?: number,
): Threshold {
  if (targetFar !== undefined) {
    const p = thresholdAtFar(probabilities, labels, targetFar);
    // +Infinity: even the top score breaks the target, so nothing may be accepted; a probability
    // can reach exactly 1 in float32, so the threshold must lie above it.
    const probability =
      p.threshold === Infinity ? 1 + Number.EPSILON : p.threshold === -Infinity ? 0 : p.threshold;
    return { probability, method: 'far', targetFar };
  }
  return { probability: equalErrorRate(probabilities, labels).threshold, method: 'eer' };
}

/**
 * Fits p = sigmoid(w * x + b) to labels by Newton's method (a 2-parameter logistic regression, with
 * a tiny ridge so separable data stays finite). `x` is the head's input: a distance or a similarity.
 */
export function fitLogistic(x: ArrayLike<number>, labels: ArrayLike<number>, iterations = 50): DistanceHead {
  let w = 0;
  let b = 0;
  const ridge = 1e-4 * x.length;
  for (let it = 0; it < iterations; it++) {
    let gw = ridge * w;
    let gb = 0;
    let hww = ridge;
    let hwb = 0;
    let hbb = 1e-9;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      const p = sigmoid(w * xi + b);
      const e = p - labels[i]!;
      const s = p * (1 - p);
      gw += e * xi;
      gb += e;
      hww += s * xi * xi;
      hwb += s * xi;
      hbb += s;
    }
    const det = hww * hbb - hwb * hwb;
    if (!(Math.abs(det) > 1e-12)) break;
    const dw = (hbb * gw - hwb * gb) / det;
    const db = (hww * gb - hwb * gw) / det;
    w -= dw;
    b -= db;
    if (Math.abs(dw) + Math.abs(db) < 1e-10) break;
  }
  return { w, b };
}

/**
 * The input of the inference graph's Linear(1, 1) head for a score: the distance (-score) for
 * distance-scored models, the cosine similarity itself for cosine-scored ones.
 */
export function headInput(kind: ScoreKind, score: number): number {
  return kind.kind === 'embedding' && kind.metric === 'cosine' ? score : -score;
}

/**
 * Calibrates a trained model on its validation scores and labels: a `logit` model's scores are
 * probabilities already; a `distance` or `embedding` model's get a fitted head first, on the head's
 * input (the distance, or the cosine similarity).
 */
export function calibrate(
  kind: ScoreKind,
  validation: { readonly scores: ArrayLike<number>; readonly labels: ArrayLike<number> },
  o: { readonly targetFar?: number } = {},
): Calibration {
  const head =
    kind.kind === 'logit'
      ? undefined
      : fitLogistic(
          Array.from(validation.scores, (v) => headInput(kind, v)),
          validation.labels,
        );
  const probabilities = (scores: ArrayLike<number>): Float32Array =>
    head
      ? Float32Array.from(scores, (v) => sigmoid(head.w * headInput(kind, v) + head.b))
      : Float32Array.from(scores);
  const threshold = calibrateThreshold(probabilities(validation.scores), validation.labels, o.targetFar);
  return { threshold, probabilities, ...(head ? { head } : {}) };
}

/** The head parameters a distance head is written into: the inference graph's Linear(1, 1). */
export const DISTANCE_HEAD = { weight: 'head.0.weight', bias: 'head.0.bias' } as const;

/**
 * `weights` with the fitted distance head written into the inference graph's Linear(1, 1) head, so
 * the exported model outputs the calibrated probability. The graph must have that head.
 */
export function withDistanceHead(
  graph: Graph,
  weights: ReadonlyMap<string, Tensor>,
  head: DistanceHead,
): Map<string, Tensor> {
  const shapeOf = (name: string): string | undefined =>
    graph.params.find((p) => p.name === name)?.shape.join(',');
  if (shapeOf(DISTANCE_HEAD.weight) !== '1,1' || shapeOf(DISTANCE_HEAD.bias) !== '1') {
    throw new Error(
      `graph '${graph.name}' has no Linear(1, 1) head (${DISTANCE_HEAD.weight} [1,1], ${DISTANCE_HEAD.bias} [1]) to hold a distance calibration; use combine 'euclidean' or 'cosine' with no hidden layers`,
    );
  }
  const out = new Map(weights);
  out.set(DISTANCE_HEAD.weight, { dtype: 'float32', shape: [1, 1], data: Float32Array.of(head.w) });
  out.set(DISTANCE_HEAD.bias, { dtype: 'float32', shape: [1], data: Float32Array.of(head.b) });
  return out;
}

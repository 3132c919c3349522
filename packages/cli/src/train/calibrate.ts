/**
 * Calibration after training: the decision threshold on the match probability (equal error rate
 * by default, or a target false-accept rate) and, for distance-trained models, the head's scale
 * and bias fitted by logistic regression so that its output is a probability.
 */
import { equalErrorRate, type Threshold, thresholdAtFar } from '@siamese/core';

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
export function fitLogistic(
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  iterations = 50,
): { w: number; b: number } {
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
      const p = 1 / (1 + Math.exp(-(w * xi + b)));
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

/**
 * int8 against fp32, measured: both precisions score the same pairs (each image embedded once, each
 * pair scored by the fp32 head), the int8 threshold is re-fitted on the calibration part's pairs
 * with the fp32 threshold's own rule, and the held-out pairs give ROC AUC, accuracy at each
 * precision's threshold and the probability differences.
 */
import type { OnnxSiamese } from '@siamese/backend-onnx';
import {
  calibrateThreshold,
  pairAccuracy,
  type QuantizationComparison,
  rocAuc,
  sigmoid,
  type Threshold,
} from '@siamese/core';
import { QuantizeError } from '../errors.js';
import { embedItems, headLogits } from '../infer/embed.js';
import type { QuantizationData, ScoredPairs } from './data.js';
import { drops, pct } from './format.js';

/** The bar: what int8 may cost on held-out pairs before the export refuses it. */
export const INT8_TARGETS = { aucDrop: 0.002, accuracyDrop: 0.005 } as const;

export interface Scored {
  readonly probabilities: Float32Array;
  readonly labels: Float32Array;
}

/** Probabilities of `set`'s pairs under `model`. */
export async function scorePairs(model: OnnxSiamese, set: ScoredPairs, batchSize: number): Promise<Scored> {
  const used = [...new Set(set.pairs.flatMap((p) => [p.a, p.b]))].sort((a, b) => a - b);
  const row = new Map(used.map((item, r) => [item, r]));
  const embeddings = await embedItems(model, set.dataset, used, batchSize);
  const logits = await headLogits(
    model,
    embeddings,
    set.pairs.map((p) => row.get(p.a)!),
    set.pairs.map((p) => row.get(p.b)!),
  );
  return {
    probabilities: Float32Array.from(logits, (l) => sigmoid(l)),
    labels: Float32Array.from(set.pairs, (p) => p.same),
  };
}

/** The same rule as `fp32` (equal error rate, a target false-accept rate, or the fixed value). */
export function refitThreshold(fp32: Threshold, on: Scored): Threshold {
  if (fp32.method === 'fixed') return fp32;
  return calibrateThreshold(on.probabilities, on.labels, fp32.method === 'far' ? fp32.targetFar : undefined);
}

export interface Comparison {
  /** The int8 model's threshold (re-fitted). */
  readonly threshold: Threshold;
  /** fp32's threshold fitted here the same way (the model keeps its own). */
  readonly fp32Threshold: Threshold;
  readonly comparison: QuantizationComparison;
}

export async function comparePrecisions(
  fp32: OnnxSiamese,
  int8: OnnxSiamese,
  data: QuantizationData,
  batchSize: number,
): Promise<Comparison> {
  const fit32 = await scorePairs(fp32, data.thresholdPairs, batchSize);
  const fit8 = await scorePairs(int8, data.thresholdPairs, batchSize);
  // Both thresholds are fitted by the same rule on the same pairs, so what differs is int8's doing
  // alone (the model's own fp32 threshold came from other pairs: comparing at it would add noise).
  const rule = fp32.artifact.threshold ?? { probability: 0.5, method: 'eer' as const };
  const fp32Threshold = rule.method === 'fixed' ? rule : refitThreshold(rule, fit32);
  const threshold = refitThreshold(rule, fit8);
  const held32 = await scorePairs(fp32, data.heldOut, batchSize);
  const held8 = await scorePairs(int8, data.heldOut, batchSize);
  const quality = (s: Scored, t: Threshold) => ({
    auc: rocAuc(s.probabilities, s.labels),
    accuracy: pairAccuracy(s.probabilities, s.labels, t.probability),
    threshold: t.probability,
  });
  const q32 = quality(held32, fp32Threshold);
  const q8 = quality(held8, threshold);
  let max = 0;
  let sum = 0;
  held32.probabilities.forEach((p, i) => {
    const d = Math.abs(p - held8.probabilities[i]!);
    max = Math.max(max, d);
    sum += d;
  });
  const aucDrop = q32.auc - q8.auc;
  const accuracyDrop = q32.accuracy - q8.accuracy;
  const within = aucDrop <= INT8_TARGETS.aucDrop + SLACK && accuracyDrop <= INT8_TARGETS.accuracyDrop + SLACK;
  return {
    threshold,
    fp32Threshold,
    comparison: {
      data: data.heldOut.description,
      pairs: held32.labels.length,
      fp32: q32,
      int8: q8,
      aucDrop,
      accuracyDrop,
      maxAbsProbabilityDelta: max,
      meanAbsProbabilityDelta: sum / held32.labels.length,
      targets: { ...INT8_TARGETS },
      accepted: within ? 'within-targets' : 'accept-drop',
    },
  };
}

/** Float noise in the drops: accuracy differences are multiples of 1/pairs, which 0.005 can sit on exactly. */
const SLACK = 1e-9;

/** Whether the comparison meets the targets. */
export function withinTargets(c: QuantizationComparison): boolean {
  return c.aucDrop <= c.targets.aucDrop + SLACK && c.accuracyDrop <= c.targets.accuracyDrop + SLACK;
}

/**
 * What to do with a measured int8 model: nothing to say when it meets the targets; a warning when
 * it misses them and --accept-drop lets it through; otherwise a QuantizeError (nothing is written).
 */
export function judge(c: QuantizationComparison, acceptDrop: boolean): string | undefined {
  if (withinTargets(c)) return undefined;
  const why = `int8 costs ${drops(c)} on held-out pairs, more than the targets (AUC drop <= ${c.targets.aucDrop}, accuracy drop <= ${pct(c.targets.accuracyDrop)})`;
  if (!acceptDrop) {
    throw new QuantizeError(
      `${why}; nothing written. Try --calibration-method percentile or entropy, more --calibration-images, or pass --accept-drop to write it anyway`,
    );
  }
  return `${why}; written anyway (--accept-drop)`;
}

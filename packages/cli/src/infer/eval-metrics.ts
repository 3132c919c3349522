/**
 * Metrics from the head's logits over the planned pairs: verification (ROC AUC, EER, the threshold
 * at a false-accept rate), N-way one-shot accuracy, and retrieval over the gallery.
 */
import type { OnnxSiamese } from '@siamese/backend-onnx';
import {
  equalErrorRate,
  logit,
  nWayAccuracy,
  pairAccuracy,
  retrievalMetrics,
  rocAuc,
  sigmoid,
  thresholdAtFar,
} from '@siamese/core';
import type { Dataset } from '@siamese/datasets';
import type { EpisodePlan, PairPlan } from './eval-plan.js';
import type { OneShotMetrics, PairMetrics, RetrievalMetrics, Skipped } from './eval-report.js';

/** Pair metrics from head logits (ROC on logits: finer than probabilities, which saturate). */
export function pairMetrics(
  plan: PairPlan,
  logits: Float32Array,
  model: OnnxSiamese,
  far: number,
): PairMetrics | Skipped {
  const labels = Float32Array.from(plan.pairs, (p) => p.same);
  const same = labels.reduce((a, b) => a + b, 0);
  const different = labels.length - same;
  if (same === 0 || different === 0) {
    return {
      skipped: `pair metrics need same and different pairs (got ${same} same, ${different} different)`,
    };
  }
  const eer = equalErrorRate(logits, labels);
  const at = thresholdAtFar(logits, labels, far);
  const t = model.threshold;
  const notes: string[] = [];
  if (far > 0 && far < 1 / different) {
    notes.push(
      `FAR ${far} is finer than 1/${different} different pairs: raise --pairs for a reliable threshold`,
    );
  }
  return {
    source: plan.source,
    ...(plan.listed !== undefined ? { listed: plan.listed } : {}),
    count: labels.length,
    same,
    different,
    rocAuc: rocAuc(logits, labels),
    eer: eer.eer,
    eerThreshold: sigmoid(eer.threshold),
    accuracyAtEer: pairAccuracy(logits, labels, eer.threshold),
    modelThreshold: t
      ? {
          probability: t.probability,
          method: t.method,
          accuracy: pairAccuracy(logits, labels, logit(t.probability)),
        }
      : null,
    atFar: {
      target: far,
      threshold: Number.isFinite(at.threshold) ? sigmoid(at.threshold) : null,
      far: at.far,
      tar: at.tar,
    },
    notes,
  };
}

/** One-shot accuracy from the episodes' logits, laid out from `start`: each query against each support image. */
export function oneShotMetrics(plan: EpisodePlan, logits: Float32Array, start: number): OneShotMetrics {
  const trials: { scores: Float32Array; correct: number }[] = [];
  let at = start;
  for (const e of plan.episodes) {
    const ns = e.support.length;
    e.query.forEach((_, qi) => {
      trials.push({
        scores: logits.subarray(at + qi * ns, at + (qi + 1) * ns),
        correct: e.supportLabels.indexOf(e.queryLabels[qi]!),
      });
    });
    at += e.query.length * ns;
  }
  return {
    way: plan.way,
    episodes: plan.episodes.length,
    trials: trials.length,
    protocol: plan.protocol,
    accuracy: nWayAccuracy(trials),
    notes: plan.notes,
  };
}

/**
 * Retrieval over the gallery from its logits, laid out from `start`: every ordered pair, or each
 * unordered pair once when the model is symmetric (`sym`).
 */
export function galleryMetrics(
  gallery: readonly number[],
  d: Dataset,
  logits: Float32Array,
  start: number,
  sym: boolean,
): RetrievalMetrics {
  const g = gallery.length;
  const sim = new Float32Array(g * g);
  let at = start;
  for (let i = 0; i < g; i++) {
    for (let j = sym ? i + 1 : 0; j < g; j++) {
      if (i === j) continue;
      sim[i * g + j] = logits[at]!;
      if (sym) sim[j * g + i] = logits[at]!;
      at++;
    }
  }
  const labels = Int32Array.from(gallery, (i) => d.items[i]!.label);
  const r = retrievalMetrics(labels, (i, j) => sim[i * g + j]!);
  return { gallery: g, classes: new Set(labels).size, ...r };
}

/**
 * After the loop (which leaves the best epoch's weights in the backend): calibrate with core's
 * rule (the head of a distance-trained model, then the decision threshold), measure the held-out
 * test pairs, run the sanity checks and assemble the model's weights.
 */
import {
  type Batch,
  calibrate,
  type DistanceHead,
  equalErrorRate,
  type Graph,
  pairAccuracy,
  rocAuc,
  type ScoreKind,
  type Tensor,
  type Threshold,
  type TrainingBackend,
  weightsForGraph,
  withDistanceHead,
} from '@siamese/core';
import type { Pair } from '@siamese/datasets';
import type { TrainingData } from './data.js';
import { type SanityResult, sanityChecks } from './sanity.js';
import type { TrainSettings } from './settings.js';

export interface Scored {
  readonly probabilities: Float32Array;
  readonly labels: Float32Array;
}

export interface Finished {
  readonly threshold: Threshold;
  readonly weights: Map<string, Tensor>;
  readonly val: Scored;
  readonly test: Scored;
  readonly metrics: Record<string, number>;
  readonly checks: SanityResult[];
  /** p = sigmoid(w * distance + b) for distance-trained models. */
  readonly head?: DistanceHead;
}

async function rawScores(
  backend: TrainingBackend,
  batches: readonly Batch[],
): Promise<{ scores: Float32Array; labels: Float32Array }> {
  const scores: number[] = [];
  const labels: number[] = [];
  for (const b of batches) {
    const r = await backend.evaluate(b);
    scores.push(...r.scores);
    labels.push(...(b.inputs.labels?.data ?? new Float32Array(b.size)));
  }
  return { scores: Float32Array.from(scores), labels: Float32Array.from(labels) };
}

export async function finish(
  backend: TrainingBackend,
  data: TrainingData,
  s: TrainSettings,
  inference: Graph,
  kind: ScoreKind,
): Promise<Finished> {
  const val = await rawScores(backend, data.validation);
  const test = await rawScores(backend, data.test);
  const { head, threshold, probabilities } = calibrate(
    kind,
    val,
    s.far !== undefined ? { targetFar: s.far } : {},
  );
  const valP = probabilities(val.scores);
  const testP = probabilities(test.scores);

  const trained = await backend.readWeights();
  const inferenceWeights = new Map([...trained].filter(([k]) => inference.params.some((p) => p.name === k)));
  const weights = weightsForGraph(
    inference,
    head ? withDistanceHead(inference, inferenceWeights, head) : inferenceWeights,
  );

  const scorePairs = async (pairs: readonly Pair[]): Promise<Float32Array> =>
    probabilities((await backend.evaluate(await data.pairBatch('val', pairs))).scores);
  const items = Math.min(32, data.part('val').items.length);
  const selfScores = await scorePairs(
    Array.from({ length: items }, (_, i) => ({ a: i, b: i, same: 1 as const })),
  );
  const some = data.validationPairs.slice(0, 32);
  const forward = await scorePairs(some);
  const backward = await scorePairs(some.map((p) => ({ a: p.b, b: p.a, same: p.same })));
  const valAccuracy = pairAccuracy(valP, val.labels, threshold.probability);
  const checks = sanityChecks({
    combine: s.combine,
    scores: valP,
    labels: val.labels,
    selfScores,
    forward,
    backward,
    accuracy: valAccuracy,
    threshold: threshold.probability,
  });

  const metrics = {
    valAccuracy,
    valAuc: rocAuc(valP, val.labels),
    valEer: equalErrorRate(valP, val.labels).eer,
    testAccuracy: pairAccuracy(testP, test.labels, threshold.probability),
    testAuc: rocAuc(testP, test.labels),
    testEer: equalErrorRate(testP, test.labels).eer,
    testPairs: testP.length,
  };
  return {
    threshold,
    weights,
    val: { probabilities: valP, labels: val.labels },
    test: { probabilities: testP, labels: test.labels },
    metrics,
    checks,
    ...(head ? { head } : {}),
  };
}

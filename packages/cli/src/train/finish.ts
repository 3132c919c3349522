/**
 * After the loop: calibrate (the head of a distance-trained model, then the decision threshold),
 * measure the held-out test pairs, run the sanity checks and assemble the model's weights.
 */
import {
  type Batch,
  equalErrorRate,
  type Graph,
  pairAccuracy,
  rocAuc,
  type Tensor,
  type Threshold,
  type TrainingBackend,
  weightsForGraph,
} from '@siamese/core';
import type { Pair } from '@siamese/datasets';
import { calibrateThreshold, fitLogistic } from './calibrate.js';
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
  readonly head?: { readonly w: number; readonly b: number };
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
): Promise<Finished> {
  const val = await rawScores(backend, data.validation);
  const test = await rawScores(backend, data.test);
  // BCE scores are probabilities already; distance-trained models score -distance, and their head
  // (Linear(1, 1) on the distance) is fitted here so that it outputs a probability too.
  const head =
    s.loss.kind === 'bce'
      ? undefined
      : fitLogistic(
          Array.from(val.scores, (v) => -v),
          val.labels,
        );
  const toProbability = (scores: Float32Array): Float32Array =>
    head ? scores.map((v) => 1 / (1 + Math.exp(-(head.w * -v + head.b)))) : scores;
  const valP = toProbability(val.scores);
  const testP = toProbability(test.scores);
  const threshold = calibrateThreshold(valP, val.labels, s.far);

  const trained = await backend.readWeights();
  if (head) {
    trained.set('head.0.weight', { dtype: 'float32', shape: [1, 1], data: Float32Array.of(head.w) });
    trained.set('head.0.bias', { dtype: 'float32', shape: [1], data: Float32Array.of(head.b) });
  }
  const weights = weightsForGraph(
    inference,
    new Map([...trained].filter(([k]) => inference.params.some((p) => p.name === k))),
  );

  const scorePairs = async (pairs: readonly Pair[]): Promise<Float32Array> =>
    toProbability((await backend.evaluate(await data.pairBatch('val', pairs))).scores);
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

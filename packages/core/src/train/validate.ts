/** Runs the validation batches in eval mode and turns scores into verification metrics. */
import { equalErrorRate, pairAccuracy, rocAuc } from '../metrics/roc.js';
import type { Batch, TrainingBackend } from './backend.js';
import type { ValidationMetrics } from './events.js';

export async function validate(
  backend: TrainingBackend,
  batches: AsyncIterable<Batch> | Iterable<Batch>,
): Promise<ValidationMetrics> {
  const scores: number[] = [];
  const labels: number[] = [];
  let lossSum = 0;
  let lossCount = 0;
  for await (const batch of batches) {
    const label = batch.inputs.labels;
    if (!label) throw new Error(`validation batches need a 'labels' input (1 = same pair)`);
    const r = await backend.evaluate(batch);
    if (r.scores.length !== batch.size)
      throw new Error(`backend returned ${r.scores.length} scores for a batch of ${batch.size}`);
    for (let i = 0; i < batch.size; i++) {
      scores.push(r.scores[i]!);
      labels.push(label.data[i]!);
    }
    if (r.loss !== undefined) {
      lossSum += r.loss * batch.size;
      lossCount += batch.size;
    }
  }
  const { eer, threshold } = equalErrorRate(scores, labels);
  return {
    ...(lossCount ? { loss: lossSum / lossCount } : {}),
    auc: rocAuc(scores, labels),
    eer,
    threshold,
    accuracy: pairAccuracy(scores, labels, threshold),
    pairs: scores.length,
  };
}

/**
 * Evaluation at a bounded cost: every image involved is embedded once, then every pair (verification
 * pairs, one-shot episodes, the retrieval gallery) is scored by the head alone on the stored
 * embeddings. In eval mode that is exactly the pair model's score, for a fraction of the work.
 */
import type { OnnxSiamese } from '@siamese/backend-onnx';
import { resolveSiamese } from '@siamese/core';
import type { DataSelection } from './data.js';
import { embedItems, headLogits } from './embed.js';
import { galleryMetrics, oneShotMetrics, pairMetrics } from './eval-metrics.js';
import { type EvalOptions, planEpisodes, planGallery, planPairs } from './eval-plan.js';
import { type EvalReport, isSkipped } from './eval-report.js';

/** Is score(a, b) = score(b, a) for this model? Then the gallery needs half the pairs. */
function symmetric(model: OnnxSiamese): boolean {
  const c = resolveSiamese(model.artifact.config).combine;
  return c === 'absdiff' || c === 'euclidean' || c === 'cosine';
}

export async function evaluate(model: OnnxSiamese, sel: DataSelection, o: EvalOptions): Promise<EvalReport> {
  const d = sel.dataset;
  const pairPlan = await planPairs(sel, o);
  const episodePlan = await planEpisodes(sel, o);
  const gallery = planGallery(d, o);

  // Every image once.
  const needed = new Set<number>();
  if (!isSkipped(pairPlan)) for (const p of pairPlan.pairs) needed.add(p.a).add(p.b);
  if (!isSkipped(episodePlan))
    for (const e of episodePlan.episodes) for (const i of [...e.query, ...e.support]) needed.add(i);
  if (!isSkipped(gallery)) for (const i of gallery) needed.add(i);
  const indices = [...needed].sort((a, b) => a - b);
  const row = new Map(indices.map((item, r) => [item, r]));
  const embeddings = await embedItems(model, d, indices, o.batchSize);
  const rowOf = (item: number) => row.get(item)!;

  // Every pair the head scores, in one list: verification, then episodes, then the gallery.
  const a: number[] = [];
  const b: number[] = [];
  const pair = (i: number, j: number) => {
    a.push(rowOf(i));
    b.push(rowOf(j));
  };
  if (!isSkipped(pairPlan)) for (const p of pairPlan.pairs) pair(p.a, p.b);
  const episodeStart = a.length;
  if (!isSkipped(episodePlan)) {
    for (const e of episodePlan.episodes) for (const q of e.query) for (const s of e.support) pair(q, s);
  }
  const galleryStart = a.length;
  const sym = symmetric(model);
  if (!isSkipped(gallery)) {
    for (let i = 0; i < gallery.length; i++) {
      for (let j = sym ? i + 1 : 0; j < gallery.length; j++) {
        if (i !== j) pair(gallery[i]!, gallery[j]!);
      }
    }
  }
  const logits = await headLogits(model, embeddings, a, b);

  const pairs = isSkipped(pairPlan)
    ? pairPlan
    : pairMetrics(pairPlan, logits.subarray(0, episodeStart), model, o.far);

  const oneShot = isSkipped(episodePlan) ? episodePlan : oneShotMetrics(episodePlan, logits, episodeStart);
  const retrieval = isSkipped(gallery) ? gallery : galleryMetrics(gallery, d, logits, galleryStart, sym);

  return { embedded: indices.length, headScores: a.length, pairs, oneShot, retrieval };
}

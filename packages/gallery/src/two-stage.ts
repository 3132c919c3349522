/**
 * Two-stage search: the gallery's candidate stage (the nearest items by embedding distance, from an
 * ANN index or a scan), then the model's own head on (query, candidate) for each candidate, best
 * logit first. With candidates >= the gallery's size it is exactly "score every item with the
 * head". The head comes as a callback, so this package does not need onnxruntime.
 */
import { sigmoid, type Tensor } from '@siamese/core';
import { GalleryError, type GalleryIndex, type GalleryItem } from './gallery.js';

/**
 * The head's logits for (query, candidates[i]) for i < count: `candidates` is [count x D]
 * row-major. The query is the pair's first input (it matters for the `diff` combine).
 */
export type HeadScorer = (
  query: Float32Array,
  candidates: Float32Array,
  count: number,
) => Promise<Float32Array>;

/** What `headScorer` needs of a model: `OnnxSiamese` has it. */
export interface EmbeddingScorer {
  readonly embeddingSize: number;
  scoreEmbeddings(a: Tensor, b: Tensor): Promise<{ readonly logit: Float32Array }>;
}

/** A HeadScorer over a model's head cut (e.g. `OnnxSiamese.scoreEmbeddings`). */
export function headScorer(model: EmbeddingScorer): HeadScorer {
  const d = model.embeddingSize;
  return async (query, candidates, count) => {
    // A buffer per call: concurrent searches (a server) must not share one while a run reads it.
    const repeated = new Float32Array(count * d);
    for (let i = 0; i < count; i++) repeated.set(query, i * d);
    const s = await model.scoreEmbeddings(
      { dtype: 'float32', shape: [count, d], data: repeated },
      { dtype: 'float32', shape: [count, d], data: candidates.subarray(0, count * d) },
    );
    return s.logit;
  };
}

export interface Match extends GalleryItem {
  /** 1-based. */
  readonly rank: number;
  /** The head's logit and its sigmoid, the match probability. */
  readonly logit: number;
  readonly probability: number;
  /** The candidate stage's distance. */
  readonly distance: number;
}

export interface TwoStageOptions {
  /** How many matches to return. */
  readonly k: number;
  readonly scorer: HeadScorer;
  /** Candidates the head re-ranks. Default 10 x k. Infinity (or the gallery's size): every item. */
  readonly candidates?: number;
  /** Candidates per scorer call (bounds memory). Default 4096. */
  readonly chunk?: number;
}

export const DEFAULT_CANDIDATES_PER_MATCH = 10;

/** The `k` best matches for `query` (D floats): candidates by distance, ranked by the head. */
export async function searchGallery(
  gallery: GalleryIndex,
  query: Float32Array,
  options: TwoStageOptions,
): Promise<Match[]> {
  const { k, scorer } = options;
  if (!(Number.isInteger(k) && k >= 1)) throw new GalleryError(`k must be a positive integer, got ${k}`);
  const size = gallery.info().size;
  const wanted = options.candidates ?? DEFAULT_CANDIDATES_PER_MATCH * k;
  if (!(wanted === Infinity || (Number.isInteger(wanted) && wanted >= k)))
    throw new GalleryError(`candidates must be an integer >= k (${k}), got ${wanted}`);
  const candidates = await gallery.search(query, Math.max(1, Math.min(wanted, size)));
  if (candidates.length === 0) return [];
  const d = query.length;
  const chunk = options.chunk ?? 4096;
  const logits = new Float32Array(candidates.length);
  const buf = new Float32Array(Math.min(chunk, candidates.length) * d);
  for (let start = 0; start < candidates.length; start += chunk) {
    const m = Math.min(chunk, candidates.length - start);
    for (let i = 0; i < m; i++) buf.set(candidates[start + i]!.embedding, i * d);
    const out = await scorer(query, buf, m);
    if (out.length < m)
      throw new GalleryError(`the head scorer returned ${out.length} logits for ${m} candidates`);
    logits.set(out.subarray(0, m), start);
  }
  // Best logit first; ties keep the candidate stage's order (nearest first).
  const order = Array.from(candidates.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
  return order.slice(0, k).map((i, rank) => {
    const c = candidates[i]!;
    return {
      rank: rank + 1,
      id: c.id,
      ...(c.label !== undefined ? { label: c.label } : {}),
      ...(c.path !== undefined ? { path: c.path } : {}),
      logit: logits[i]!,
      probability: sigmoid(logits[i]!),
      distance: c.distance,
    };
  });
}

/**
 * recall@k of `found` against `truth` (both best first): the share of truth's first k ids that
 * found's first k holds.
 */
export function recallAtK(truth: readonly string[], found: readonly string[], k: number): number {
  const want = truth.slice(0, k);
  if (want.length === 0) return 1;
  const got = new Set(found.slice(0, k));
  return want.filter((id) => got.has(id)).length / want.length;
}

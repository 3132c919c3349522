/**
 * Which candidate stage fits a model: its combine mode (core's `SiameseConfig.combine`) decides
 * the embedding metric, and whether the head's ranking is the metric's ranking (then the two-stage
 * search returns what scoring every item with the head returns, up to the ANN's recall).
 */
import { resolveSiamese, type SiameseConfig, type Tensor } from '@siamese/core';
import type { Metric } from './gallery.js';

export interface SearchPlan {
  readonly metric: Metric;
  /**
   * The head is monotone in the metric (a distance combine with no hidden layer, its weight of the
   * sign that prefers near items): the nearest items are the head's best.
   */
  readonly exact: boolean;
  /** One line saying why, for `info` and logs. */
  readonly reason: string;
}

/** The candidate-stage plan for a model's config (and its weights, to read the head's sign). */
export function searchPlan(config: SiameseConfig, weights?: ReadonlyMap<string, Tensor>): SearchPlan {
  const c = resolveSiamese(config);
  const w = weights?.get('head.0.weight')?.data[0];
  const sign = typeof w === 'number' ? Math.sign(w) : undefined;
  const monotone = c.head.hidden.length === 0;
  switch (c.combine) {
    case 'euclidean':
      return {
        metric: 'l2',
        exact: monotone && sign !== 1,
        reason: monotone
          ? sign === 1
            ? "euclidean head with a positive weight scores far items higher: candidates by L2 are not the head's best"
            : 'euclidean head with no hidden layer: a decreasing function of the L2 distance (exact)'
          : 'euclidean distance into hidden layers: candidates by L2, re-ranked by the head',
      };
    case 'cosine':
      return {
        metric: 'cosine',
        exact: monotone && sign !== -1,
        reason: monotone
          ? sign === -1
            ? "cosine head with a negative weight scores dissimilar items higher: candidates by cosine are not the head's best"
            : 'cosine head with no hidden layer: an increasing function of the cosine similarity (exact)'
          : 'cosine similarity into hidden layers: candidates by cosine, re-ranked by the head',
      };
    default:
      return {
        metric: 'l2',
        exact: false,
        reason: `${c.combine} head (an MLP on the pair of embeddings): candidates by L2 distance, re-ranked by the head`,
      };
  }
}

/** The metric's distance between a[ao, ao+d) and b[bo, bo+d). */
export function distance(
  metric: Metric,
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  d: number,
): number {
  if (metric === 'l2') {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = a[ao + j]! - b[bo + j]!;
      s += t * t;
    }
    return s;
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let j = 0; j < d; j++) {
    const x = a[ao + j]!;
    const y = b[bo + j]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 1 : 1 - dot / Math.sqrt(na * nb);
}

/** Indices of the `k` smallest values, smallest first (ties by index). */
export function smallest(values: Float32Array | Float64Array, k: number): number[] {
  const n = values.length;
  k = Math.min(k, n);
  if (k <= 0) return [];
  const less = (i: number, j: number) => values[i]! < values[j]! || (values[i] === values[j] && i < j);
  // A max-heap of the k best so far: its root is the worst of them.
  const heap: number[] = [];
  const up = (at: number) => {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!less(heap[parent]!, heap[at]!)) break;
      [heap[parent], heap[at]] = [heap[at]!, heap[parent]!];
      at = parent;
    }
  };
  const down = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let top = at;
      if (l < heap.length && less(heap[top]!, heap[l]!)) top = l;
      if (r < heap.length && less(heap[top]!, heap[r]!)) top = r;
      if (top === at) return;
      [heap[top], heap[at]] = [heap[at]!, heap[top]!];
      at = top;
    }
  };
  for (let i = 0; i < n; i++) {
    if (heap.length < k) {
      heap.push(i);
      up(heap.length - 1);
    } else if (less(i, heap[0]!)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((i, j) => (less(i, j) ? -1 : 1));
}

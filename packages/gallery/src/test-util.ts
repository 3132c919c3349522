/** Test helpers: seeded Gaussian clusters and heads written in plain TypeScript. */
import { Random } from '@siamese/core';
import type { GalleryItem } from './gallery.js';
import type { HeadScorer } from './two-stage.js';

/** n points [n x d] around n/perCluster centres; item i has id `i<i>` and its cluster as label. */
export function clusters(
  n: number,
  d: number,
  seed: number,
  perCluster = 10,
): { items: GalleryItem[]; embeddings: Float32Array } {
  const r = new Random(seed);
  const k = Math.max(1, Math.round(n / perCluster));
  const centres = Float32Array.from({ length: k * d }, () => r.normal());
  const embeddings = new Float32Array(n * d);
  const items: GalleryItem[] = [];
  for (let i = 0; i < n; i++) {
    const c = r.int(k);
    items.push({ id: `i${i}`, label: `c${c}` });
    for (let j = 0; j < d; j++) embeddings[i * d + j] = centres[c * d + j]! + 0.4 * r.normal();
  }
  return { items, embeddings };
}

/** A query near row `row` of `embeddings`. */
export function near(embeddings: Float32Array, d: number, row: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: d }, (_, j) => embeddings[row * d + j]! + 0.3 * r.normal());
}

/**
 * An absdiff MLP head, d -> hidden -> 1 with ReLU, random weights of the signs a trained head
 * tends to have (similar pairs score high): not a function of any one distance.
 */
export function mlpHead(d: number, hidden: number, seed: number): HeadScorer {
  const r = new Random(seed);
  const w1 = Float32Array.from({ length: hidden * d }, () => Math.abs(r.normal()) / Math.sqrt(d));
  const b1 = Float32Array.from({ length: hidden }, () => 0.1 * r.normal());
  const w2 = Float32Array.from({ length: hidden }, () => -Math.abs(r.normal()));
  return async (q, c, count) => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      let logit = 3;
      for (let h = 0; h < hidden; h++) {
        let z = b1[h]!;
        for (let j = 0; j < d; j++) z += w1[h * d + j]! * Math.abs(q[j]! - c[i * d + j]!);
        logit += w2[h]! * Math.max(0, z);
      }
      out[i] = logit;
    }
    return out;
  };
}

/** A cosine head with no hidden layer: logit = w * cos(q, c) + b, w > 0. */
export function cosineHead(d: number, w = 5, b = -2): HeadScorer {
  return async (q, c, count) => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      let dot = 0;
      let nq = 0;
      let nc = 0;
      for (let j = 0; j < d; j++) {
        dot += q[j]! * c[i * d + j]!;
        nq += q[j]! * q[j]!;
        nc += c[i * d + j]! * c[i * d + j]!;
      }
      out[i] = w * (dot / Math.sqrt(nq * nc)) + b;
    }
    return out;
  };
}

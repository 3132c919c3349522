/**
 * Triplets (anchor, positive, negative): random ones from a dataset, and semi-hard ones mined
 * from a batch's embeddings (FaceNet): a negative farther from the anchor than the positive but
 * within the margin; the closest such, so the loss is largest among the semi-hard ones.
 */
import type { Random, Tensor } from '@siamese/core';
import { type Dataset, indicesByClass } from '../dataset.js';
import { datasetError } from '../errors.js';
import { pick, stream } from '../shuffle.js';

export interface Triplet {
  readonly anchor: number;
  readonly positive: number;
  readonly negative: number;
}

export class TripletSampler {
  private readonly rng: Random;
  private readonly byClass: Map<number, number[]>;
  private readonly positiveClasses: number[];
  private readonly allClasses: number[];

  constructor(
    readonly dataset: Dataset,
    options: { readonly seed: number },
  ) {
    this.rng = stream(options.seed, 'triplets');
    this.byClass = indicesByClass(dataset);
    this.allClasses = [...this.byClass.keys()].sort((a, b) => a - b);
    this.positiveClasses = this.allClasses.filter((c) => (this.byClass.get(c) as number[]).length >= 2);
    if (this.positiveClasses.length === 0) {
      throw datasetError(
        'too-few',
        `triplets: no class of '${dataset.name}' has two images, so no anchor-positive pair exists`,
      );
    }
    if (this.allClasses.length < 2)
      throw datasetError('too-few', `triplets: '${dataset.name}' has one class, so no negative exists`);
  }

  /** `count` random triplets: a class with two or more images for anchor and positive, another for the negative. */
  next(count: number): Triplet[] {
    if (!Number.isInteger(count) || count < 1)
      throw datasetError('options', `triplets: count must be a positive integer, got ${count}`);
    const out: Triplet[] = [];
    for (let k = 0; k < count; k++) {
      const c = pick(this.positiveClasses, this.rng);
      const members = this.byClass.get(c) as number[];
      const i = this.rng.int(members.length);
      let j = this.rng.int(members.length - 1);
      if (j >= i) j++;
      let n = pick(this.allClasses, this.rng);
      while (n === c) n = pick(this.allClasses, this.rng);
      out.push({
        anchor: members[i] as number,
        positive: members[j] as number,
        negative: pick(this.byClass.get(n) as number[], this.rng),
      });
    }
    return out;
  }
}

export interface SemiHardOptions {
  /** The triplet loss margin. Default 0.2. */
  readonly margin?: number;
  /** Compare squared Euclidean distances (as the loss does with `squared`). Default false. */
  readonly squared?: boolean;
  /**
   * When an anchor-positive pair has no semi-hard negative: `hardest` (default) takes the closest
   * negative (harder than semi-hard), `skip` drops the pair.
   */
  readonly fallback?: 'hardest' | 'skip';
}

/** Row-major [N, D] embeddings: a core float32 tensor, or data plus the dimension. */
export type Embeddings = Tensor<'float32'> | { readonly data: Float32Array; readonly dim: number };

/**
 * Semi-hard triplets over a batch: one per ordered anchor-positive pair of equal labels, the
 * negative the closest one with d(a,p) < d(a,n) < d(a,p) + margin. Indices are batch rows.
 * Deterministic: ties go to the lowest row.
 */
export function semiHardTriplets(
  embeddings: Embeddings,
  labels: ArrayLike<number>,
  options: SemiHardOptions = {},
): Triplet[] {
  const margin = options.margin ?? 0.2;
  const dim = 'dim' in embeddings ? embeddings.dim : (embeddings.shape[1] ?? 0);
  const n = labels.length;
  if ('shape' in embeddings && embeddings.shape.length !== 2) {
    throw datasetError(
      'options',
      `semi-hard: embeddings must be [N, D], got [${embeddings.shape.join(', ')}]`,
    );
  }
  if (dim < 1 || embeddings.data.length !== n * dim) {
    throw datasetError(
      'options',
      `semi-hard: ${n} labels but ${embeddings.data.length / Math.max(dim, 1)} embedding rows`,
    );
  }
  const x = embeddings.data;
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) {
        const d = (x[i * dim + k] as number) - (x[j * dim + k] as number);
        s += d * d;
      }
      const v = options.squared ? s : Math.sqrt(s);
      dist[i * n + j] = v;
      dist[j * n + i] = v;
    }
  }
  const out: Triplet[] = [];
  for (let a = 0; a < n; a++) {
    for (let p = 0; p < n; p++) {
      if (p === a || labels[p] !== labels[a]) continue;
      const dap = dist[a * n + p] as number;
      let semi = -1;
      let semiD = Number.POSITIVE_INFINITY;
      let hard = -1;
      let hardD = Number.POSITIVE_INFINITY;
      for (let k = 0; k < n; k++) {
        if (labels[k] === labels[a]) continue;
        const d = dist[a * n + k] as number;
        if (d > dap && d < dap + margin && d < semiD) {
          semi = k;
          semiD = d;
        }
        if (d < hardD) {
          hard = k;
          hardD = d;
        }
      }
      const neg = semi >= 0 ? semi : options.fallback === 'skip' ? -1 : hard;
      if (neg >= 0) out.push({ anchor: a, positive: p, negative: neg });
    }
  }
  return out;
}

/**
 * What the loader hands the trainer: pairs, triplets or labelled images as float32 NCHW core
 * Tensors, and the option that asks for a training (augmented) batch.
 */
import type { Tensor } from '@siamese/core';
import type { Pair } from './dataset.js';
import type { Triplet } from './samplers/triplets.js';

export interface BatchOptions {
  /** Augment (when the loader has augmentation). Default false: evaluation. */
  readonly train?: boolean;
}

export interface PairBatch {
  readonly x1: Tensor<'float32'>;
  readonly x2: Tensor<'float32'>;
  /** [N, 1]: 1 = same class. */
  readonly labels: Tensor<'float32'>;
  readonly pairs: readonly Pair[];
}

export interface TripletBatch {
  readonly anchor: Tensor<'float32'>;
  readonly positive: Tensor<'float32'>;
  readonly negative: Tensor<'float32'>;
  readonly triplets: readonly Triplet[];
}

export interface ImageBatch {
  readonly x: Tensor<'float32'>;
  /** [N]: class labels of the items. */
  readonly labels: Tensor<'int32'>;
  readonly indices: readonly number[];
}

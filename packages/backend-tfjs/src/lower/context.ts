/** What a lowering may use besides its inputs: the mode and buffer state. */

import type { Node } from '@siamese/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { Val } from './value.js';

export type Mode = 'train' | 'eval';

export interface LowerContext {
  readonly mode: Mode;
  readonly node: Node;
  /** The buffer's latest value: one updated earlier in this run (side a before side b), else the stored one. */
  buffer(name: string): tf.Tensor;
  /** Records a buffer's new value; applied by the caller after the run. */
  setBuffer(name: string, value: tf.Tensor): void;
  /** Adds one to an int64 counter such as `num_batches_tracked`. */
  count(name: string): void;
}

/** One op's lowering: IR inputs (undefined for an omitted optional one) to outputs, in the op's order. */
export type Lowering<A> = (inputs: readonly (Val | undefined)[], attrs: A, ctx: LowerContext) => Val[];

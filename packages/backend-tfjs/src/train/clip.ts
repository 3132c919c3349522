/** Gradient clipping like torch.nn.utils.clip_grad_norm_ (global L2 norm) and clip_grad_value_. */
import type { ClipConfig } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';

export type { ClipConfig } from '@siamese/core';

/** New gradients (call inside tf.tidy). */
export function clipGradients(grads: readonly tf.Tensor[], c: ClipConfig): tf.Tensor[] {
  let out = [...grads];
  if (c.maxValue !== undefined) out = out.map((g) => tf.clipByValue(g, -c.maxValue!, c.maxValue!));
  if (c.maxNorm !== undefined && out.length > 0) {
    const total = tf.sqrt(tf.addN(out.map((g) => tf.sum(tf.square(g)))));
    const coef = tf.minimum(tf.div(c.maxNorm, tf.add(total, 1e-6)), 1);
    out = out.map((g) => tf.mul(g, coef));
  }
  return out;
}

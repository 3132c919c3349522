/**
 * Optimizers with PyTorch's update rules (torch.optim SGD, Adam, AdamW) and state slots named like
 * torch's (`exp_avg`, `exp_avg_sq`, `momentum_buffer`), readable and writable for checkpoints.
 */
import type { OptimizerConfig } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';

// The settings, slot names and validation are core's (shared with every backend); the update rules
// below are this backend's tfjs implementation of them.
export { checkOptimizer, type OptimizerConfig, slotNames } from '@siamese/core';

export interface Slots {
  get(param: string, slot: string): tf.Variable;
}

/**
 * One update of parameter `p` from gradient `g` at global step `step` (1 for the first). Call
 * inside tf.tidy; assigns `p` and its slots.
 */
export function update(
  c: OptimizerConfig,
  name: string,
  p: tf.Variable,
  g: tf.Tensor,
  slots: Slots,
  lr: number,
  step: number,
): void {
  const wd = c.weightDecay ?? (c.kind === 'adamw' ? 0.01 : 0);
  if (c.kind === 'sgd') {
    let d = wd > 0 ? tf.add(g, tf.mul(p, wd)) : g;
    const mu = c.momentum ?? 0;
    if (mu > 0) {
      const buf = slots.get(name, 'momentum_buffer');
      // torch starts the buffer at the first gradient, undamped.
      const next = step === 1 ? d : tf.add(tf.mul(buf, mu), tf.mul(d, 1 - (c.dampening ?? 0)));
      buf.assign(next);
      d = c.nesterov ? tf.add(d, tf.mul(next, mu)) : next;
    }
    p.assign(tf.sub(p, tf.mul(d, lr)));
    return;
  }
  const b1 = c.beta1 ?? 0.9;
  const b2 = c.beta2 ?? 0.999;
  const eps = c.eps ?? 1e-8;
  let grad = g;
  let base: tf.Tensor = p;
  if (c.kind === 'adam' && wd > 0) grad = tf.add(g, tf.mul(p, wd));
  if (c.kind === 'adamw' && wd > 0) base = tf.mul(p, 1 - lr * wd);
  const m = slots.get(name, 'exp_avg');
  const v = slots.get(name, 'exp_avg_sq');
  const m1 = tf.add(tf.mul(m, b1), tf.mul(grad, 1 - b1));
  const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(grad), 1 - b2));
  m.assign(m1);
  v.assign(v1);
  const bc1 = 1 - b1 ** step;
  const bc2 = 1 - b2 ** step;
  const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(bc2)), eps);
  p.assign(tf.sub(base, tf.mul(tf.div(m1, denom), lr / bc1)));
}

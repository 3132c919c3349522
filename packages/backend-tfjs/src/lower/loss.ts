/** Losses as their documented formulas; each returns a scalar mean. */

import type { MarginAttrs, TripletAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { ir, need, toIR, type Val } from './value.js';

const val = (v: Val | undefined, name: string): tf.Tensor => toIR(need(v, name));

export const bceWithLogits: Lowering<Record<string, never>> = ([z, t]) => {
  const logits = val(z, 'logits');
  const targets = val(t, 'targets');
  const stable = tf.log1p(tf.exp(tf.neg(tf.abs(logits))));
  return [ir(tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), stable)))];
};

export const contrastiveLoss: Lowering<MarginAttrs> = ([d, y], a) => {
  const dist = val(d, 'distance');
  const same = val(y, 'labels');
  const pull = tf.mul(same, tf.square(dist));
  const push = tf.mul(tf.sub(1, same), tf.square(tf.relu(tf.sub(a.margin, dist))));
  return [ir(tf.div(tf.mean(tf.add(pull, push)), 2))];
};

function pairwise(x: tf.Tensor, y: tf.Tensor, eps: number): tf.Tensor {
  return tf.sqrt(tf.sum(tf.square(tf.add(tf.sub(x, y), eps)), 1));
}

export const tripletLoss: Lowering<TripletAttrs> = ([an, po, ne], a) => {
  const anchor = val(an, 'anchor');
  const dp = pairwise(anchor, val(po, 'positive'), a.eps);
  const dn = pairwise(anchor, val(ne, 'negative'), a.eps);
  return [ir(tf.mean(tf.relu(tf.add(tf.sub(dp, dn), a.margin))))];
};

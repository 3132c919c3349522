/**
 * Identity classification as the op docs write it: marginLogits, softmaxCrossEntropy, and the softmax
 * and oneHot their gradients use. A label selects the column whose index it equals (float32 compare).
 */

import { arcfaceConstants, type MarginLogitsAttrs, type SoftmaxAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { ir, irShape, need, toIR, type Val } from './value.js';

type NoAttrs = Record<string, never>;

const val = (v: Val | undefined, name: string): tf.Tensor => toIR(need(v, name));

/** bool [N, C]: true where the column index equals the row's label. */
function targets(labels: tf.Tensor, classes: number): tf.Tensor {
  return tf.equal(tf.reshape(labels, [-1, 1]), tf.range(0, classes, 1, 'float32'));
}

/** Each row's cosine at its target column, [N, 1] (exact: one term, the rest zeros). */
function picked(x: tf.Tensor, hot: tf.Tensor): tf.Tensor {
  return tf.sum(tf.where(hot, x, tf.zerosLike(x)), 1, true);
}

/** The target cosine with the kind's margin, before the scale. */
function withMargin(t: tf.Tensor, a: MarginLogitsAttrs): tf.Tensor {
  if (a.kind === 'normface') return t;
  if (a.kind === 'cosface') return tf.sub(t, a.margin);
  const k = arcfaceConstants(a.margin);
  // 1 - t^2 as (1 - t)(1 + t): no cancellation near |t| = 1; clamped at 0 where |t| > 1.
  const sine = tf.sqrt(tf.relu(tf.mul(tf.sub(1, t), tf.add(1, t))));
  const phi = tf.sub(tf.mul(t, k.cosM), tf.mul(sine, k.sinM));
  return a.easyMargin
    ? tf.where(tf.greater(t, 0), phi, t)
    : tf.where(tf.greater(t, k.th), phi, tf.sub(t, k.mm));
}

export const marginLogits: Lowering<MarginLogitsAttrs> = ([c, l], a) => {
  const cos = val(c, 'cosine');
  const hot = targets(val(l, 'labels'), cos.shape[1] as number);
  const target = withMargin(picked(cos, hot), a);
  return [ir(tf.mul(tf.where(hot, tf.broadcastTo(target, cos.shape), cos), a.scale))];
};

/** mean(logsumexp(z) - z[label]); tf.logSumExp subtracts each row's max first. */
export const softmaxCrossEntropy: Lowering<NoAttrs> = ([z, l]) => {
  const logits = val(z, 'logits');
  const hot = targets(val(l, 'labels'), logits.shape[1] as number);
  const chosen = tf.reshape(picked(logits, hot), [-1]);
  return [ir(tf.mean(tf.sub(tf.logSumExp(logits, 1), chosen)))];
};

/** exp(x - max) / sum(exp(x - max)) along any axis (tf.softmax takes only the last). */
export const softmax: Lowering<SoftmaxAttrs> = ([x], a) => {
  const t = val(x, 'x');
  const axis = a.axis < 0 ? a.axis + t.rank : a.axis;
  const e = tf.exp(tf.sub(t, tf.max(t, axis, true)));
  return [ir(tf.div(e, tf.sum(e, axis, true)))];
};

export const oneHot: Lowering<NoAttrs> = ([l, like]) => {
  const classes = irShape(need(like, 'like'))[1] as number;
  return [ir(tf.cast(targets(val(l, 'labels'), classes), 'float32'))];
};

/**
 * l2Normalize, euclideanDistance, cosineSimilarity over rows. max(||x||, eps) is computed as
 * sqrt(max(sum x^2, eps^2)): the same value, and a zero (not NaN) gradient for a zero row.
 */

import type { DistanceAttrs, L2NormalizeAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { ir, need, toIR, type Val } from './value.js';

function clampedNorm(t: tf.Tensor, axis: number, eps: number): tf.Tensor {
  return tf.sqrt(tf.maximum(tf.sum(tf.square(t), axis, true), eps * eps));
}

const rows = (v: Val | undefined, name: string): tf.Tensor => toIR(need(v, name));

export const l2Normalize: Lowering<L2NormalizeAttrs> = ([x], a) => {
  const t = rows(x, 'x');
  const axis = a.axis < 0 ? a.axis + t.rank : a.axis;
  return [ir(tf.div(t, clampedNorm(t, axis, a.eps)))];
};

export const euclideanDistance: Lowering<DistanceAttrs> = ([a, b], at) => [
  ir(tf.sqrt(tf.add(tf.sum(tf.squaredDifference(rows(a, 'a'), rows(b, 'b')), 1, true), at.eps))),
];

export const cosineSimilarity: Lowering<DistanceAttrs> = ([a, b], at) => {
  const ta = rows(a, 'a');
  const tb = rows(b, 'b');
  const dot = tf.sum(tf.mul(ta, tb), 1, true);
  return [ir(tf.div(dot, tf.mul(clampedNorm(ta, 1, at.eps), clampedNorm(tb, 1, at.eps))))];
};

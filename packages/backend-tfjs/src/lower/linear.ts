/**
 * linear (x @ weight^T + bias over the last axis), dropout and matmul. Dropout is the identity in
 * eval mode; in training it is core's training form (a multiply by a mask drawn by core's rule),
 * so train-mode dropout here is refused rather than drawn from a second random stream.
 */

import type { DropoutAttrs, MatmulAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { ir, need, toIR } from './value.js';

export const linear: Lowering<Record<string, never>> = ([x, w, b]) => {
  const t = toIR(need(x, 'x'));
  const weight = need(w, 'weight').t;
  const inF = weight.shape[1] as number;
  const outF = weight.shape[0] as number;
  const x2 = t.rank === 2 ? t : tf.reshape(t, [-1, inF]);
  let y: tf.Tensor = tf.matMul(x2 as tf.Tensor2D, weight as tf.Tensor2D, false, true);
  if (b) y = tf.add(y, b.t);
  if (t.rank !== 2) y = tf.reshape(y, [...t.shape.slice(0, -1), outF]);
  return [ir(y)];
};

export const dropout: Lowering<DropoutAttrs> = ([x], a, ctx) => {
  const v = need(x, 'x');
  if (ctx.mode === 'eval' || a.p === 0) return [v];
  throw new Error(
    `train-mode dropout (p = ${a.p}) is not lowered directly: compile core's trainingForm(graph), whose masks the caller feeds`,
  );
};

export const matmul: Lowering<MatmulAttrs> = ([a, b], t) => [
  ir(tf.matMul(toIR(need(a, 'a')) as tf.Tensor2D, toIR(need(b, 'b')) as tf.Tensor2D, t.transA, t.transB)),
];

/** flatten and concat: NHWC stays NHWC where the result is the same, else the IR layout is used. */

import type { ConcatAttrs, FlattenAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { ir, need, nhwc, toIR } from './value.js';

const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

export const flatten: Lowering<FlattenAttrs> = ([x], a) => {
  const v = need(x, 'x');
  const ax = axisOf(a.axis, v.t.rank);
  // [N, 1, 1, C] NHWC holds the same numbers in the same order as [N, C, 1, 1] NCHW.
  if (v.layout === 'nhwc' && ax === 1 && v.t.shape[1] === 1 && v.t.shape[2] === 1) {
    return [ir(tf.reshape(v.t, [v.t.shape[0] as number, v.t.shape[3] as number]))];
  }
  const t = toIR(v);
  const tail = t.shape.slice(ax).reduce((p, d) => p * d, 1);
  return [ir(tf.reshape(t, [...t.shape.slice(0, ax), tail]))];
};

export const concat: Lowering<ConcatAttrs> = (xs, a) => {
  const vs = xs.map((v, i) => need(v, `xs[${i}]`));
  const rank = vs[0]?.t.rank ?? 0;
  const ax = axisOf(a.axis, rank);
  if (ax === 1 && vs.every((v) => v.layout === 'nhwc')) {
    return [
      nhwc(
        tf.concat(
          vs.map((v) => v.t),
          3,
        ),
      ),
    ];
  }
  return [ir(tf.concat(vs.map(toIR), ax))];
};

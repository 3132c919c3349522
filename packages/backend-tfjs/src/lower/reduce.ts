/** reduceMean / reduceSum over IR axes (all when empty), and numel. */

import type { NumelAttrs, ReduceAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { ir, irShape, need, toIR } from './value.js';

function reduction(f: typeof tf.mean): Lowering<ReduceAttrs> {
  return ([x], a) => {
    const v = need(x, 'x');
    // A full reduction to a scalar does not depend on the layout: no transpose.
    if (a.axes.length === 0 && !a.keepDims) return [ir(f(v.t))];
    const t = toIR(v);
    const axes =
      a.axes.length === 0 ? t.shape.map((_, i) => i) : a.axes.map((ax) => (ax < 0 ? ax + t.rank : ax));
    return [ir(f(t, axes, a.keepDims))];
  };
}

export const reduceMean = reduction(tf.mean);
export const reduceSum = reduction(tf.sum);

/** A constant from the shape alone: x's values are never read. */
export const numel: Lowering<NumelAttrs> = ([x], a) => {
  const shape = irShape(need(x, 'x'));
  const axes = a.axes.length === 0 ? shape.map((_, i) => i) : a.axes;
  const n = axes.reduce((p, ax) => p * (shape[ax < 0 ? ax + shape.length : ax] as number), 1);
  return [ir(tf.scalar(n, 'float32'))];
};

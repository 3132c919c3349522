/**
 * flatten, concat, slice, reshapeLike, broadcastTo and sumTo: NHWC stays NHWC where the result is
 * the same, else the IR layout is used. A `like` input gives only its IR shape.
 */

import type { BroadcastToAttrs, ConcatAttrs, FlattenAttrs, SliceAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { ir, irAxes, irShape, NCHW_TO_NHWC, need, nhwc, storedAxes, toIR, type Val } from './value.js';

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

/** Works on the stored tensor in any layout: only the axis moves. */
export const slice: Lowering<SliceAttrs> = ([x], a) => {
  const v = need(x, 'x');
  const at = irAxes(v)[axisOf(a.axis, v.t.rank)] as number;
  const begin = v.t.shape.map(() => 0);
  const size = v.t.shape.map(() => -1);
  begin[at] = a.start;
  size[at] = a.end - a.start;
  return [{ t: tf.slice(v.t, begin, size), layout: v.layout }];
};

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

export const reshapeLike: Lowering<Record<string, never>> = ([x, like]) => {
  const v = need(x, 'x');
  const shape = irShape(need(like, 'like'));
  if (sameShape(irShape(v), shape)) return [v];
  const [n, c, h, w] = shape;
  // [N, C] and [N, 1, 1, C] NHWC hold the same numbers in the same order as [N, C, 1, 1] NCHW.
  if (shape.length === 4 && h === 1 && w === 1) return [nhwc(tf.reshape(toIR(v), [n!, 1, 1, c!]))];
  if (v.layout === 'nhwc' && v.t.shape[1] === 1 && v.t.shape[2] === 1) return [ir(tf.reshape(v.t, shape))];
  return [ir(tf.reshape(toIR(v), shape))];
};

export const broadcastTo: Lowering<BroadcastToAttrs> = ([x, like], a) => {
  const v = need(x, 'x');
  const l = need(like, 'like');
  const shape = irShape(l);
  const r = shape.length;
  const inserted = new Set(a.insertAxes.map((ax) => axisOf(ax, r)));
  const from = irShape(v);
  let k = 0;
  const expanded = shape.map((_, i) => (inserted.has(i) ? 1 : (from[k++] as number)));
  const t = tf.reshape(toIR(v), expanded);
  // Broadcast straight into the layout of like: the transpose moves only the small x.
  if (l.layout === 'nhwc') return [nhwc(tf.broadcastTo(tf.transpose(t, NCHW_TO_NHWC), l.t.shape))];
  return [ir(tf.broadcastTo(t, shape))];
};

/** Sums in x's own layout (no transpose of the large x); only the small result changes layout. */
export const sumTo: Lowering<Record<string, never>> = ([x, like]) => {
  const v = need(x, 'x');
  const shape = irShape(need(like, 'like'));
  const r = v.t.rank;
  // like's shape with the leading axes numpy broadcasting added, then in x's stored order.
  const padded = [...Array<number>(r - shape.length).fill(1), ...shape];
  const want = storedAxes(v).map((i) => padded[i] as number);
  const axes = want.flatMap((d, j) => (d === 1 && v.t.shape[j] !== 1 ? [j] : []));
  const summed: Val = { t: axes.length > 0 ? tf.sum(v.t, axes, true) : v.t, layout: v.layout };
  if (shape.length === r) return [summed];
  return [ir(tf.reshape(toIR(summed), shape))];
};

/**
 * Element-wise ops keep their input's layout. A binary op keeps it when both sides share a layout
 * (the same permutation of both keeps numpy broadcasting exact) or one side is a single value
 * (which broadcasts alike in any layout); mixed layouts fall back to the IR's.
 */
import type { ClampAttrs, ScaleAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { ir, need, toIR, type Val } from './value.js';

type NoAttrs = Record<string, never>;

function unary(f: (t: tf.Tensor) => tf.Tensor): Lowering<NoAttrs> {
  return ([x]) => {
    const v = need(x, 'x');
    return [{ t: f(v.t), layout: v.layout }];
  };
}

function binary(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Lowering<NoAttrs> {
  return ([a, b]) => {
    const va: Val = need(a, 'a');
    const vb: Val = need(b, 'b');
    if (va.layout === vb.layout) return [{ t: f(va.t, vb.t), layout: va.layout }];
    if (single(vb, va)) return [{ t: f(va.t, vb.t), layout: va.layout }];
    if (single(va, vb)) return [{ t: f(va.t, vb.t), layout: vb.layout }];
    return [ir(f(toIR(va), toIR(vb)))];
  };
}

/** `v` is one value that broadcasts against `other` without changing its rank. */
function single(v: Val, other: Val): boolean {
  return v.t.size === 1 && v.t.rank <= other.t.rank;
}

export const relu = unary((t) => tf.relu(t));
export const abs = unary((t) => tf.abs(t));
export const sigmoid = unary((t) => tf.sigmoid(t));
export const add = binary((a, b) => tf.add(a, b));
export const sub = binary((a, b) => tf.sub(a, b));
export const mul = binary((a, b) => tf.mul(a, b));

export const div = binary((a, b) => tf.div(a, b));
export const sqrt = unary((t) => tf.sqrt(t));
export const exp = unary((t) => tf.exp(t));
/** From comparisons: wasm's Sign kernel gives 0 for small magnitudes (1e-7). */
export const sign = unary((t) =>
  tf.sub(tf.cast(tf.greater(t, 0), 'float32'), tf.cast(tf.less(t, 0), 'float32')),
);
/** a where b > 0, else 0 (not a * step(b): an infinite a where b <= 0 still gives 0). */
export const reluGrad = binary((a, b) => tf.where(tf.greater(b, 0), a, tf.zerosLike(a)));

export const scale: Lowering<ScaleAttrs> = ([x], a) => {
  const v = need(x, 'x');
  let t = v.t;
  if (a.alpha !== 1) t = tf.mul(t, a.alpha);
  if (a.beta !== 0) t = tf.add(t, a.beta);
  return [{ t, layout: v.layout }];
};

/** maximum / minimum rather than clipByValue: a bound may be absent, and min may equal max. */
export const clamp: Lowering<ClampAttrs> = ([x], a) => {
  const v = need(x, 'x');
  let t = v.t;
  if (a.min !== null) t = tf.maximum(t, a.min);
  if (a.max !== null) t = tf.minimum(t, a.max);
  return [{ t, layout: v.layout }];
};

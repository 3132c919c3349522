/** Element-wise ops keep their input's layout; binary ops mixing layouts fall back to the IR's. */
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
    // Both NHWC: the same permutation of both keeps numpy broadcasting exact.
    if (va.layout === vb.layout && va.layout !== 'hwio') return [{ t: f(va.t, vb.t), layout: va.layout }];
    return [ir(f(toIR(va), toIR(vb)))];
  };
}

export const relu = unary((t) => tf.relu(t));
export const abs = unary((t) => tf.abs(t));
export const sigmoid = unary((t) => tf.sigmoid(t));
export const add = binary((a, b) => tf.add(a, b));
export const sub = binary((a, b) => tf.sub(a, b));
export const mul = binary((a, b) => tf.mul(a, b));

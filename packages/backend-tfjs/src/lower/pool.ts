/** maxPool2d (-inf padding, PyTorch's ceil mode), its gradient, and globalAvgPool over NHWC activations. */

import { type MaxPool2dAttrs, windowOut } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { need, nhwc, toNHWC } from './value.js';

/** Extra end padding so a 'valid' window count equals PyTorch's output size (ceil mode). */
function endPad(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const out = windowOut(size, k, s, p, d, ceil);
  return Math.max(0, (out - 1) * s + d * (k - 1) + 1 - (size + 2 * p));
}

/** x padded with -inf so that 'valid' windows are PyTorch's (padding, and ceil mode's extra end rows). */
function padded(t: tf.Tensor4D, a: MaxPool2dAttrs): tf.Tensor4D {
  const [, h, w] = t.shape;
  const [ph, pw] = a.padding;
  const eh = endPad(h, a.kernel[0], a.stride[0], ph, a.dilation[0], a.ceilMode);
  const ew = endPad(w, a.kernel[1], a.stride[1], pw, a.dilation[1], a.ceilMode);
  if (ph + pw + eh + ew === 0) return t;
  return tf.pad(
    t,
    [
      [0, 0],
      [ph, ph + eh],
      [pw, pw + ew],
      [0, 0],
    ],
    Number.NEGATIVE_INFINITY,
  );
}

function maxPoolNhwc(xt: tf.Tensor4D, a: MaxPool2dAttrs): tf.Tensor4D {
  const t = padded(xt, a);
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [dh, dw] = a.dilation;
  if (dh === 1 && dw === 1) return tf.maxPool(t, [kh, kw], [sh, sw], 'valid');
  if (sh !== 1 || sw !== 1) throw new Error('maxPool2d: tfjs pools with dilation > 1 only at stride 1');
  return tf.pool(t, [kh, kw], 'max', 'valid', [dh, dw], [1, 1]) as tf.Tensor4D;
}

export const maxPool2d: Lowering<MaxPool2dAttrs> = ([x], a) => [nhwc(maxPoolNhwc(toNHWC(need(x, 'x')), a))];

export const globalAvgPool: Lowering<Record<string, never>> = ([x]) => [
  nhwc(tf.mean(toNHWC(need(x, 'x')), [1, 2], true)),
];

/**
 * dx. On wasm it is written out rather than run by tfjs's MaxPoolGrad, whose wasm kernel in tfjs
 * 4.22 is wrong for odd and non-square maps (14 of 15 of core's maxPool2dGrad conformance cases,
 * e.g. a ResNet stem on 105x105 images), so the result and the tie rule are PyTorch's: each dy
 * element goes to the first maximum of its window in row-major order, contributions to one element
 * add up. Window tap (i, j) of every output is one strided slice of the padded x; a tap takes dy
 * where it equals the window's maximum and no earlier tap did, and its share is strided back into
 * place and added up. The conformance cases run both forms (js and wasm).
 */
export const maxPool2dGrad: Lowering<MaxPool2dAttrs> = ([x, dy], a) => {
  const xt = toNHWC(need(x, 'x'));
  const g = toNHWC(need(dy, 'dy'));
  if (tf.getBackend() === 'wasm') return [nhwc(maxPoolGradNhwc(xt, g, a))];
  // Elsewhere tfjs's own MaxPoolGrad kernel is right and faster (native on tfjs-node and GPUs):
  // reached through tfjs's gradient of the same forward.
  const dx = tf.grad((t: tf.Tensor) => maxPoolNhwc(t as tf.Tensor4D, a))(xt, g);
  return [nhwc(dx as tf.Tensor4D)];
};

/** dx of maxPool2d over NHWC x from NHWC dy (see maxPool2dGrad). */
function maxPoolGradNhwc(xt: tf.Tensor4D, g: tf.Tensor4D, a: MaxPool2dAttrs): tf.Tensor4D {
  const [n, h, w, c] = xt.shape;
  const p = padded(xt, a);
  const [, hp, wp] = p.shape;
  const [, ho, wo] = g.shape;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [dh, dw] = a.dilation;
  // Extent of one tap's outputs on the padded grid.
  const lh = (ho - 1) * sh + 1;
  const lw = (wo - 1) * sw + 1;
  // Taps in row-major window order: the order that decides ties.
  const taps: { top: number; left: number; t: tf.Tensor }[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const top = i * dh;
      const left = j * dw;
      const t = tf.stridedSlice(p, [0, top, left, 0], [n, top + lh, left + lw, c], [1, sh, sw, 1]);
      taps.push({ top, left, t });
    }
  }
  let max = (taps[0] as (typeof taps)[number]).t;
  for (const { t } of taps.slice(1)) max = tf.maximum(max, t);
  const zeros = tf.zerosLike(g);
  // Outputs whose dy no earlier tap has taken.
  let free = tf.ones(g.shape, 'bool');
  const parts = taps.map(({ top, left, t }) => {
    const hit = tf.logicalAnd(free, tf.equal(t, max));
    free = tf.logicalAnd(free, tf.logicalNot(hit));
    const share = tf.where(hit, g, zeros);
    // Each output's share at its window tap: stride - 1 zeros after every row and column.
    const spaced = tf.slice(
      tf.reshape(
        tf.pad(tf.reshape(share, [n, ho, 1, wo, 1, c]), [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ]),
        [n, ho * sh, wo * sw, c],
      ),
      [0, 0, 0, 0],
      [n, lh, lw, c],
    );
    return tf.pad(spaced, [
      [0, 0],
      [top, hp - top - lh],
      [left, wp - left - lw],
      [0, 0],
    ]);
  });
  const dxp = parts.length === 1 ? (parts[0] as tf.Tensor) : tf.addN(parts);
  const [ph, pw] = a.padding;
  return tf.slice(dxp, [0, ph, pw, 0], [n, h, w, c]) as tf.Tensor4D;
}

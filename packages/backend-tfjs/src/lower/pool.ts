/** maxPool2d (-inf padding, PyTorch's ceil mode) and globalAvgPool over NHWC activations. */

import { type MaxPool2dAttrs, windowOut } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { need, nhwc, toNHWC } from './value.js';

/** Extra end padding so a 'valid' window count equals PyTorch's output size (ceil mode). */
function endPad(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const out = windowOut(size, k, s, p, d, ceil);
  return Math.max(0, (out - 1) * s + d * (k - 1) + 1 - (size + 2 * p));
}

export const maxPool2d: Lowering<MaxPool2dAttrs> = ([x], a) => {
  let t = toNHWC(need(x, 'x'));
  const [, h, w] = t.shape;
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [ph, pw] = a.padding;
  const [dh, dw] = a.dilation;
  const eh = endPad(h, kh, sh, ph, dh, a.ceilMode);
  const ew = endPad(w, kw, sw, pw, dw, a.ceilMode);
  if (ph + pw + eh + ew > 0) {
    t = tf.pad(
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
  if (dh === 1 && dw === 1) return [nhwc(tf.maxPool(t, [kh, kw], [sh, sw], 'valid'))];
  if (sh !== 1 || sw !== 1) throw new Error('maxPool2d: tfjs pools with dilation > 1 only at stride 1');
  return [nhwc(tf.pool(t, [kh, kw], 'max', 'valid', [dh, dw], [1, 1]))];
};

export const globalAvgPool: Lowering<Record<string, never>> = ([x]) => [
  nhwc(tf.mean(toNHWC(need(x, 'x')), [1, 2], true)),
];

/** conv2d: NHWC activations, HWIO weights; groups by splitting channels, dilation by a spread kernel. */

import type { Conv2dAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { need, nhwc, toHWIO, toNHWC } from './value.js';

/**
 * A dilated kernel written out with zeros between its taps. tfjs has no gradient for dilated
 * convolutions; an ordinary convolution with this kernel is the same function and differentiates.
 */
function spread(w: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  if (dh === 1 && dw === 1) return w;
  const [kh, kw, i, o] = w.shape;
  const holes = tf.pad(tf.reshape(w, [kh, 1, kw, 1, i, o]), [
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, dw - 1],
    [0, 0],
    [0, 0],
  ]);
  const full = tf.reshape(holes, [kh * dh, kw * dw, i, o]) as tf.Tensor4D;
  return tf.slice(full, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, i, o]) as tf.Tensor4D;
}

function plain(x: tf.Tensor4D, w: tf.Tensor4D, a: Conv2dAttrs): tf.Tensor4D {
  const [ph, pw] = a.padding;
  return tf.conv2d(
    x,
    w,
    [a.stride[0], a.stride[1]],
    [
      [0, 0],
      [ph, ph],
      [pw, pw],
      [0, 0],
    ],
  );
}

export const conv2d: Lowering<Conv2dAttrs> = ([x, w, bias], a) => {
  const xt = toNHWC(need(x, 'x'));
  const wt = spread(toHWIO(need(w, 'weight')), a.dilation[0], a.dilation[1]);
  let y: tf.Tensor4D;
  if (a.groups === 1) {
    y = plain(xt, wt, a);
  } else {
    // tfjs has no grouped convolution: one convolution per group, joined on channels.
    const xs = tf.split(xt, a.groups, 3);
    const ws = tf.split(wt, a.groups, 3) as tf.Tensor4D[];
    y = tf.concat(
      xs.map((xg, g) => plain(xg as tf.Tensor4D, ws[g] as tf.Tensor4D, a)),
      3,
    );
  }
  return [nhwc(bias ? tf.add(y, bias.t) : y)];
};

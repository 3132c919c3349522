/**
 * conv2d and its gradients: NHWC activations, HWIO weights; groups by splitting channels, dilation
 * by a spread kernel. The input gradient is tfjs's transposed convolution, the filter gradient its
 * Conv2DBackpropFilter kernel: the kernels tfjs's own conv2d gradient runs, without the forward.
 */

import type { Conv2dAttrs, Conv2dGradAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { need, nhwc, toHWIO, toNHWC, type Val } from './value.js';

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

type Padding = [[number, number], [number, number], [number, number], [number, number]];

function padding(a: Conv2dAttrs): Padding {
  const [ph, pw] = a.padding;
  return [
    [0, 0],
    [ph, ph],
    [pw, pw],
    [0, 0],
  ];
}

function plain(x: tf.Tensor4D, w: tf.Tensor4D, a: Conv2dAttrs): tf.Tensor4D {
  return tf.conv2d(x, w, [a.stride[0], a.stride[1]], padding(a));
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

/** One convolution per group: the channel axis (3) of every input split, the results joined on it. */
function perGroup(
  groups: number,
  inputs: readonly tf.Tensor4D[],
  f: (...parts: tf.Tensor4D[]) => tf.Tensor4D,
): tf.Tensor4D {
  if (groups === 1) return f(...inputs);
  const parts = inputs.map((t) => tf.split(t, groups, 3) as tf.Tensor4D[]);
  return tf.concat(
    Array.from({ length: groups }, (_, g) => f(...parts.map((p) => p[g] as tf.Tensor4D))),
    3,
  );
}

/** dx [N, H, W, C]: the transposed convolution of dy with the (spread) kernel, at the input's size. */
export const conv2dInputGrad: Lowering<Conv2dGradAttrs> = ([dy, w], a) => {
  const g = toNHWC(need(dy, 'dy'));
  const k = spread(toHWIO(need(w, 'weight')), a.dilation[0], a.dilation[1]);
  const [h, wd] = a.size;
  const shape: [number, number, number, number] = [g.shape[0], h, wd, k.shape[2]];
  const dx = perGroup(a.groups, [g, k], (gg, kg) =>
    tf.conv2dTranspose(gg, kg, shape, [a.stride[0], a.stride[1]], padding(a)),
  );
  return [nhwc(dx)];
};

/** The kernel tfjs's conv2d gradient runs for the filter (no public op), HWIO. */
function backpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, shape: number[], a: Conv2dAttrs): tf.Tensor4D {
  const attrs = {
    strides: [a.stride[0], a.stride[1]],
    pad: padding(a),
    dataFormat: 'NHWC',
    filterShape: shape,
  };
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor4D;
}

/**
 * dweight, HWIO: the gradient of the spread kernel, whose taps at multiples of the dilation are the
 * real kernel's (the zeros between them are not parameters).
 */
export const conv2dFilterGrad: Lowering<Conv2dGradAttrs> = ([x, dy], a) => {
  const xt = toNHWC(need(x, 'x'));
  const g = toNHWC(need(dy, 'dy'));
  const [kh, kw] = a.size;
  const [dh, dw] = a.dilation;
  const shape = [(kh - 1) * dh + 1, (kw - 1) * dw + 1, xt.shape[3] / a.groups, g.shape[3] / a.groups];
  const full = perGroup(a.groups, [xt, g], (xg, gg) => backpropFilter(xg, gg, shape, a));
  const dk = dh === 1 && dw === 1 ? full : tf.stridedSlice(full, [0, 0, 0, 0], full.shape, [dh, dw, 1, 1]);
  const out: Val = { t: dk, layout: 'hwio' };
  return [out];
};

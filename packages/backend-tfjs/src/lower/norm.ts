/**
 * batchNorm (PyTorch's BatchNorm): channels last inside tfjs. Train mode normalizes with biased
 * batch statistics and records the running-statistics update (unbiased variance) for the caller
 * to apply after the step; eval mode uses the running buffers. batchNormTrain and batchNormGrad are
 * the same computations with the statistics, running buffers and gradients as outputs.
 */

import type { BatchNormAttrs } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Lowering } from './context.js';
import { ir, need, toNHWC, type Val } from './value.js';

/** x with channels last, and how to put a result back in x's layout. */
function channelsLast(v: Val): { t: tf.Tensor; back: (y: tf.Tensor) => Val } {
  if (v.layout === 'nhwc' || v.t.rank === 4) return { t: toNHWC(v), back: (y) => ({ t: y, layout: 'nhwc' }) };
  if (v.t.rank === 2) return { t: v.t, back: (y) => ({ t: y, layout: 'ir' }) };
  const r = v.t.rank;
  const perm = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
  const inverse = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
  return { t: tf.transpose(v.t, perm), back: (y) => ({ t: tf.transpose(y, inverse), layout: 'ir' }) };
}

/**
 * Train-mode normalization as one taped op with PyTorch's closed-form backward: the tape keeps only
 * x-hat and 1/std instead of every intermediate, and the batch statistics leave through `stats`.
 */
function trainNorm(
  t: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor,
  eps: number,
  /** Receives the batch mean and biased variance, kept: the caller disposes them. */
  stats: (mean: tf.Tensor, variance: tf.Tensor) => void,
): tf.Tensor {
  const axes = Array.from({ length: t.rank - 1 }, (_, i) => i);
  const n = t.size / (t.shape[t.rank - 1] as number);
  const f = tf.customGrad((x, w, b, save) => {
    const { mean, variance } = tf.moments(x as tf.Tensor, axes);
    const invstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(x as tf.Tensor, mean), invstd);
    stats(tf.keep(mean), tf.keep(variance));
    (save as tf.GradSaveFunc)([xhat, invstd, w as tf.Tensor]);
    return {
      value: tf.add(tf.mul(xhat, w as tf.Tensor), b as tf.Tensor),
      gradFunc: (dy: tf.Tensor, [xh, is, wt]: tf.Tensor[]) => {
        const dw = tf.sum(tf.mul(dy, xh as tf.Tensor), axes);
        const db = tf.sum(dy, axes);
        // dx = w / std * (dy - mean(dy) - x-hat * mean(dy * x-hat)), over the batch and spatial axes.
        const centered = tf.sub(tf.sub(dy, tf.div(db, n)), tf.mul(xh as tf.Tensor, tf.div(dw, n)));
        return [tf.mul(tf.mul(wt as tf.Tensor, is as tf.Tensor), centered), dw, db];
      },
    };
  });
  return f(t, weight, bias);
}

export const batchNorm: Lowering<BatchNormAttrs> = ([x, w, b, rm, rv], a, ctx) => {
  const { t, back } = channelsLast(need(x, 'x'));
  const weight = need(w, 'weight').t;
  const bias = need(b, 'bias').t;
  if (ctx.mode === 'eval') {
    const scale = tf.mul(weight, tf.rsqrt(tf.add(need(rv, 'runningVar').t, a.eps)));
    const shift = tf.sub(bias, tf.mul(need(rm, 'runningMean').t, scale));
    return [back(tf.add(tf.mul(t, scale), shift))];
  }
  const n = t.size / (t.shape[t.rank - 1] as number);
  const [, , , meanName, varName, countName] = ctx.node.inputs;
  const m = a.momentum;
  let stats: [tf.Tensor, tf.Tensor] | undefined;
  const y = trainNorm(t, weight, bias, a.eps, (mean, variance) => {
    stats = [mean, variance];
  });
  const [mean, variance] = stats as [tf.Tensor, tf.Tensor];
  // Outside the op's own scope, so the new buffer values outlive it; the variance unbiased.
  if (meanName) ctx.setBuffer(meanName, tf.add(tf.mul(ctx.buffer(meanName), 1 - m), tf.mul(mean, m)));
  if (varName)
    ctx.setBuffer(varName, tf.add(tf.mul(ctx.buffer(varName), 1 - m), tf.mul(variance, m * (n / (n - 1)))));
  if (countName) ctx.count(countName);
  tf.dispose([mean, variance]);
  return [back(y)];
};

/** Every axis but the channels (last, in channelsLast's layout), and the element count per channel. */
function statAxes(t: tf.Tensor): { axes: number[]; n: number } {
  return {
    axes: Array.from({ length: t.rank - 1 }, (_, i) => i),
    n: t.size / (t.shape[t.rank - 1] as number),
  };
}

/** [y, mean, invStd, runningMeanOut, runningVarOut]: batchNorm's train mode, its update as outputs. */
export const batchNormTrain: Lowering<BatchNormAttrs> = ([x, w, b, rm, rv], a) => {
  const { t, back } = channelsLast(need(x, 'x'));
  const { axes, n } = statAxes(t);
  const { mean, variance } = tf.moments(t, axes);
  const invStd = tf.rsqrt(tf.add(variance, a.eps));
  const scale = tf.mul(need(w, 'weight').t, invStd);
  const y = tf.add(tf.mul(tf.sub(t, mean), scale), need(b, 'bias').t);
  const m = a.momentum;
  // As batchNorm's train mode updates its buffers: the variance unbiased.
  const meanOut = tf.add(tf.mul(need(rm, 'runningMean').t, 1 - m), tf.mul(mean, m));
  const varOut = tf.add(tf.mul(need(rv, 'runningVar').t, 1 - m), tf.mul(variance, m * (n / (n - 1))));
  return [back(y), ir(mean), ir(invStd), ir(meanOut), ir(varOut)];
};

/** [dx, dweight, dbias] from the saved mean and invStd, as trainNorm's gradFunc computes them. */
export const batchNormGrad: Lowering<Record<string, never>> = ([dy, x, w, mean, invStd]) => {
  const { t, back } = channelsLast(need(x, 'x'));
  const g = channelsLast(need(dy, 'dy')).t;
  const { axes, n } = statAxes(t);
  const is = need(invStd, 'invStd').t;
  const xhat = tf.mul(tf.sub(t, need(mean, 'mean').t), is);
  const dw = tf.sum(tf.mul(g, xhat), axes);
  const db = tf.sum(g, axes);
  // dx = w / std * (dy - mean(dy) - x-hat * mean(dy * x-hat)), over the batch and spatial axes.
  const centered = tf.sub(tf.sub(g, tf.div(db, n)), tf.mul(xhat, tf.div(dw, n)));
  const dx = tf.mul(tf.mul(need(w, 'weight').t, is), centered);
  return [back(dx), ir(dw), ir(db)];
};

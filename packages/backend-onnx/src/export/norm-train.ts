/**
 * Train-mode BatchNorm in stock opset-17 ops (onnxruntime's CPU build has no training-mode
 * BatchNormalization). batchNormTrain: batch statistics by ReduceMean, then the inference
 * BatchNormalization kernel fed those statistics (one fused pass for y). batchNormGrad: with
 * xc = x - mean, db = sum(dy), dw = invStd * sum(dy * xc), and
 * dx = (w * invStd) * (dy - db / n) - (w * invStd^3 * sum(dy * xc) / n) * xc.
 */
import type { BatchNormAttrs, TensorType } from '@siamese/core';
import { TensorProto_DataType } from '../proto/onnx_pb.js';
import { attr, type LoweringContext } from './context.js';
import { reduceSumOf, reduceWithAttr } from './reduce.js';
import type { Lowering } from './types.js';

/** Every axis but the channel axis 1. */
const statAxes = (t: TensorType): number[] => t.shape.map((_, i) => i).filter((i) => i !== 1);

/** [C] → [1, C, 1, ...] so it broadcasts over x. */
function perChannel(ctx: LoweringContext, v: string, rank: number): string {
  const axes = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== 1);
  return ctx.op('Unsqueeze', [v, ctx.int64s(axes)]);
}

/** Elements per channel as a float scalar: static, or read from x's shape at run time. */
function countPerChannel(ctx: LoweringContext, x: string, t: TensorType): string {
  const axes = statAxes(t);
  const dims = axes.map((i) => t.shape[i]!);
  if (dims.every((d) => typeof d === 'number'))
    return ctx.scalar(dims.reduce<number>((p, d) => p * (d as number), 1));
  const picked = ctx.op('Gather', [ctx.op('Shape', [x]), ctx.int64s(axes)], [attr.int('axis', 0)]);
  return ctx.op(
    'Cast',
    [ctx.op('ReduceProd', [picked], [attr.int('keepdims', 0)])],
    [attr.int('to', TensorProto_DataType.FLOAT)],
  );
}

export const batchNormTrain: Lowering<BatchNormAttrs> = ({ ctx, inputs, inputTypes, outputs, attrs: a }) => {
  const [x, w, b, rm, rv] = inputs as [string, string, string, string, string];
  const t = inputTypes[0]!;
  const axes = statAxes(t);
  const c = t.shape[1] as number;
  const meanKept = reduceWithAttr(ctx, 'ReduceMean', x, axes, true);
  const centered = ctx.op('Sub', [x, meanKept]);
  const varKept = reduceWithAttr(ctx, 'ReduceMean', ctx.op('Mul', [centered, centered]), axes, true);
  const mean = ctx.op('Reshape', [meanKept, ctx.int64s([c])], [], outputs[1]);
  const variance = ctx.op('Reshape', [varKept, ctx.int64s([c])]);
  ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(a.eps)])])], [], outputs[2]);
  ctx.op('BatchNormalization', [x, w, b, mean, variance], [attr.float('epsilon', a.eps)], outputs[0]);
  // Running statistics: (1 - m) * running + m * batch, the variance unbiased by n / (n - 1).
  const n = countPerChannel(ctx, x, t);
  const unbiased = ctx.op('Mul', [variance, ctx.op('Div', [n, ctx.op('Sub', [n, ctx.scalar(1)])])]);
  const blend = (running: string, batch: string, out: string): void => {
    ctx.op(
      'Add',
      [ctx.op('Mul', [running, ctx.scalar(1 - a.momentum)]), ctx.op('Mul', [batch, ctx.scalar(a.momentum)])],
      [],
      out,
    );
  };
  blend(rm, mean, outputs[3]!);
  blend(rv, unbiased, outputs[4]!);
};

export const batchNormGrad: Lowering<Record<string, never>> = ({ ctx, inputs, inputTypes, outputs }) => {
  const [dy, x, w, mean, invStd] = inputs as [string, string, string, string, string];
  const t = inputTypes[1]!;
  const r = t.shape.length;
  const axes = statAxes(t);
  const centered = ctx.op('Sub', [x, perChannel(ctx, mean, r)]);
  const db = reduceSumOf(ctx, dy, axes, false, outputs[2]);
  const dot = reduceSumOf(ctx, ctx.op('Mul', [dy, centered]), axes, false);
  ctx.op('Mul', [dot, invStd], [], outputs[1]);
  const n = countPerChannel(ctx, x, t);
  const gain = ctx.op('Mul', [w, invStd]);
  // dx = gain * dy + (gain * invStd^2 * dot / n) * (-xc) - gain * db / n
  const slope = ctx.op('Div', [
    ctx.op('Mul', [ctx.op('Mul', [gain, ctx.op('Mul', [invStd, invStd])]), dot]),
    n,
  ]);
  const offset = ctx.op('Div', [ctx.op('Mul', [gain, db]), n]);
  const scaled = ctx.op('Mul', [dy, perChannel(ctx, gain, r)]);
  const radial = ctx.op('Mul', [centered, perChannel(ctx, slope, r)]);
  ctx.op('Sub', [ctx.op('Sub', [scaled, radial]), perChannel(ctx, offset, r)], [], outputs[0]);
};

/**
 * Train-mode BatchNorm in stock onnxruntime ops that every execution provider runs
 * (bench/conv-grad-formulations: this form is 0.91x PyTorch for forward + backward on the CPU).
 *
 * batchNormTrain: the batch mean and biased variance by per-channel sums (two passes), y by one pass
 * of the inference BatchNormalization kernel fed those statistics; PyTorch's running statistics
 * (variance unbiased by n / (n - 1)) are then blended on the [C] vectors.
 *
 * batchNormGrad, with per-channel sums S(t) over every axis but 1, M elements per channel,
 * a = w * invStd, db = S(dy), dw = invStd * (S(dy * x) - mean * db), ai = a * invStd * dw / M:
 *   dx = a * dy + (ai * mean - a * db / M) - ai * x,
 * where the first two terms are one pass of the inference BatchNormalization kernel (scale a,
 * bias the constant, mean 0, variance 1, epsilon 0).
 *
 * The zero/one statistics of that inference pass are computed vectors made for it alone, not
 * constants: onnxruntime's optimizer shares equal constants between nodes, and while the forward
 * still used training-mode BatchNormalization (which writes over its statistics inputs) a shared
 * constant gave wrong gradients, caught by the finite-difference test in src/train.
 */
import type { BatchNormAttrs, TensorType } from '@siamese/core';
import { TensorProto_DataType } from '../proto/onnx_pb.js';
import { attr, type LoweringContext } from './context.js';
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

/** Per-channel sum: over the flattened spatial axis first, then the batch (faster than one ReduceSum over both). */
function channelSum(ctx: LoweringContext, t: string, c: number): string {
  const rows = ctx.op('Reshape', [t, ctx.int64s([0, c, -1])]);
  const spatial = ctx.op('ReduceSum', [rows, ctx.int64s([2])], [attr.int('keepdims', 0)]);
  return ctx.op('ReduceSum', [spatial, ctx.int64s([0])], [attr.int('keepdims', 0)]);
}

/** A zero and a one vector [C] computed from `like` (any finite [C] value of this node), not constants. */
function neutralStats(ctx: LoweringContext, like: string): [string, string] {
  const zeros = ctx.op('Sub', [like, like]);
  return [zeros, ctx.op('Add', [zeros, ctx.scalar(1)])];
}

export const batchNormTrain: Lowering<BatchNormAttrs> = ({ ctx, inputs, inputTypes, outputs, attrs: a }) => {
  const [x, w, b, rm, rv] = inputs as [string, string, string, string, string];
  const t = inputTypes[0]!;
  const c = t.shape[1] as number;
  const r = t.shape.length;
  // Batch statistics in two passes (mean, then the mean square of x - mean), as PyTorch's CPU
  // kernel: a training-mode BatchNormalization would save a pass, but onnxruntime's CUDA provider
  // refuses it at opset >= 14, and on the CPU it writes its running outputs over its inputs.
  const n = countPerChannel(ctx, x, t);
  const mean = ctx.op('Div', [channelSum(ctx, x, c), n], [], outputs[1]);
  const centered = ctx.op('Sub', [x, perChannel(ctx, mean, r)]);
  const rows = ctx.op('Reshape', [centered, ctx.int64s([0, c, -1])]);
  const spatial = ctx.op('ReduceSumSquare', [rows], [attr.ints('axes', [2]), attr.int('keepdims', 0)]);
  const variance = ctx.op('Div', [
    ctx.op('ReduceSum', [spatial, ctx.int64s([0])], [attr.int('keepdims', 0)]),
    n,
  ]);
  ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(a.eps)])])], [], outputs[2]);
  // y in one pass of the inference kernel, fed the batch statistics.
  ctx.op('BatchNormalization', [x, w, b, mean, variance], [attr.float('epsilon', a.eps)], outputs[0]);
  // Running statistics: (1 - m) * running + m * batch, the variance unbiased by n / (n - 1).
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
  const c = t.shape[1] as number;
  const r = t.shape.length;
  const m = countPerChannel(ctx, x, t);
  const db = channelSum(ctx, dy, c);
  ctx.op('Identity', [db], [], outputs[2]);
  const dw = ctx.op(
    'Mul',
    [ctx.op('Sub', [channelSum(ctx, ctx.op('Mul', [dy, x]), c), ctx.op('Mul', [mean, db])]), invStd],
    [],
    outputs[1],
  );
  const gain = ctx.op('Mul', [w, invStd]);
  const slope = ctx.op('Div', [ctx.op('Mul', [ctx.op('Mul', [gain, invStd]), dw]), m]);
  const offset = ctx.op('Sub', [ctx.op('Mul', [slope, mean]), ctx.op('Div', [ctx.op('Mul', [gain, db]), m])]);
  const [zeros, ones] = neutralStats(ctx, mean);
  const affine = ctx.op('BatchNormalization', [dy, gain, offset, zeros, ones], [attr.float('epsilon', 0)]);
  ctx.op('Sub', [affine, ctx.op('Mul', [x, perChannel(ctx, slope, r)])], [], outputs[0]);
};

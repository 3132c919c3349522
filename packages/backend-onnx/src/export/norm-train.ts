/**
 * Train-mode BatchNorm in stock onnxruntime ops, in the forms measured fastest on its CPU build
 * (bench/conv-grad-formulations: 0.97x PyTorch for forward + backward).
 *
 * batchNormTrain: BatchNormalization in training mode with momentum 0, so its "running" outputs are
 * the batch mean and the biased batch variance; PyTorch's running statistics (variance unbiased by
 * n / (n - 1)) are then blended on the [C] vectors.
 *
 * batchNormGrad, with per-channel sums S(t) over every axis but 1, M elements per channel,
 * a = w * invStd, db = S(dy), dw = invStd * (S(dy * x) - mean * db), ai = a * invStd * dw / M:
 *   dx = a * dy + (ai * mean - a * db / M) - ai * x,
 * where the first two terms are one pass of the inference BatchNormalization kernel (scale a,
 * bias the constant, mean 0, variance 1, epsilon 0).
 *
 * Measured trap: onnxruntime's training-mode BatchNormalization writes its running outputs in place
 * over its running inputs, so those are scratch vectors made for it alone (the conformance and
 * finite-difference tests catch any sharing).
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

/**
 * A zero and a one vector [C] computed from `like` (any finite [C] value of this node): never a
 * constant or a value read elsewhere, because a BatchNormalization in training mode writes its
 * running outputs over the statistics it is given (even a graph input's memory), and
 * onnxruntime's optimizer shares equal constants between nodes.
 */
function neutralStats(ctx: LoweringContext, like: string): [string, string] {
  const zeros = ctx.op('Sub', [like, like]);
  return [zeros, ctx.op('Add', [zeros, ctx.scalar(1)])];
}

export const batchNormTrain: Lowering<BatchNormAttrs> = ({ ctx, inputs, inputTypes, outputs, attrs: a }) => {
  const [x, w, b, rm, rv] = inputs as [string, string, string, string, string];
  const t = inputTypes[0]!;
  // With momentum 0 the "running" outputs are the batch statistics, whatever the inputs hold; the
  // inputs are scratch vectors because onnxruntime writes the running outputs over them in place.
  const [zeros, ones] = neutralStats(ctx, rm);
  const variance = ctx.fresh(`${outputs[0]}/batch_var`);
  ctx.node(
    'BatchNormalization',
    [x, w, b, zeros, ones],
    [outputs[0]!, outputs[1]!, variance],
    [attr.float('epsilon', a.eps), attr.float('momentum', 0), attr.int('training_mode', 1)],
  );
  ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(a.eps)])])], [], outputs[2]);
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
  blend(rm, outputs[1]!, outputs[3]!);
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

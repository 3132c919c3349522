/**
 * Identity classification as the op docs write it, in stock opset-17 ops: marginLogits,
 * softmaxCrossEntropy, and the softmax and oneHot their gradients use. A label selects the column
 * whose index it equals (Equal against the float32 class indices 0..C-1, a constant: C is static).
 */
import { arcfaceConstants, type MarginLogitsAttrs, type SoftmaxAttrs } from '@siamese/core';
import { TensorProto_DataType } from '../proto/onnx_pb.js';
import { attr, type LoweringContext } from './context.js';
import { reduceSumOf } from './reduce.js';
import type { Lowering } from './types.js';

type NoAttrs = Record<string, never>;

/** bool [N, C]: true where the column index equals the row's label. */
function targets(ctx: LoweringContext, labels: string, classes: number): string {
  const index = ctx.once(`classIndex:${classes}`, () =>
    ctx.constant(`const/classIndex${classes}`, {
      dtype: 'float32',
      shape: [classes],
      data: Float32Array.from({ length: classes }, (_, i) => i),
    }),
  );
  return ctx.op('Equal', [ctx.op('Unsqueeze', [labels, ctx.int64s([1])]), index]);
}

/** Each row's value at its target column, [N, 1] (exact: one term, the rest zeros). */
function picked(ctx: LoweringContext, x: string, hot: string): string {
  return reduceSumOf(ctx, ctx.op('Where', [hot, x, ctx.scalar(0)]), [1], true);
}

/** The target cosine with the kind's margin, before the scale. */
function withMargin(ctx: LoweringContext, t: string, a: MarginLogitsAttrs): string {
  if (a.kind === 'normface') return t;
  if (a.kind === 'cosface') return ctx.op('Sub', [t, ctx.scalar(a.margin)]);
  const k = arcfaceConstants(a.margin);
  const one = ctx.scalar(1);
  // 1 - t^2 as (1 - t)(1 + t): no cancellation near |t| = 1; clamped at 0 where |t| > 1.
  const sine2 = ctx.op('Mul', [ctx.op('Sub', [one, t]), ctx.op('Add', [one, t])]);
  const sine = ctx.op('Sqrt', [ctx.op('Relu', [sine2])]);
  const phi = ctx.op('Sub', [
    ctx.op('Mul', [t, ctx.scalar(k.cosM)]),
    ctx.op('Mul', [sine, ctx.scalar(k.sinM)]),
  ]);
  return a.easyMargin
    ? ctx.op('Where', [ctx.op('Greater', [t, ctx.scalar(0)]), phi, t])
    : ctx.op('Where', [ctx.op('Greater', [t, ctx.scalar(k.th)]), phi, ctx.op('Sub', [t, ctx.scalar(k.mm)])]);
}

export const marginLogits: Lowering<MarginLogitsAttrs> = ({ ctx, inputs, inputTypes, outputs, attrs: a }) => {
  const cos = inputs[0]!;
  const hot = targets(ctx, inputs[1]!, inputTypes[0]!.shape[1] as number);
  const target = withMargin(ctx, picked(ctx, cos, hot), a);
  ctx.op('Mul', [ctx.op('Where', [hot, target, cos]), ctx.scalar(a.scale)], [], outputs[0]);
};

/** mean(max + log(sum(exp(z - max))) - z[label]) over rows. */
export const softmaxCrossEntropy: Lowering<NoAttrs> = ({ ctx, inputs, inputTypes, outputs }) => {
  const z = inputs[0]!;
  const hot = targets(ctx, inputs[1]!, inputTypes[0]!.shape[1] as number);
  const max = ctx.op('ReduceMax', [z], [attr.ints('axes', [1]), attr.int('keepdims', 1)]);
  const sum = reduceSumOf(ctx, ctx.op('Exp', [ctx.op('Sub', [z, max])]), [1], true);
  const lse = ctx.op('Add', [max, ctx.op('Log', [sum])]);
  const rows = ctx.op('Sub', [lse, picked(ctx, z, hot)]);
  ctx.op('ReduceMean', [rows], [attr.int('keepdims', 0)], outputs[0]);
};

/** Softmax-13 normalises along one axis, computed stably by onnxruntime. */
export const softmax: Lowering<SoftmaxAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  ctx.op('Softmax', [inputs[0]!], [attr.int('axis', a.axis)], outputs[0]);
};

export const oneHot: Lowering<NoAttrs> = ({ ctx, inputs, inputTypes, outputs }) => {
  const hot = targets(ctx, inputs[0]!, inputTypes[1]!.shape[1] as number);
  ctx.op('Cast', [hot], [attr.int('to', TensorProto_DataType.FLOAT)], outputs[0]);
};

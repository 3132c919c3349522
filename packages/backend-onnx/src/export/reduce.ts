/**
 * reduceMean → ReduceMean, reduceSum → ReduceSum. In opset 17 ReduceSum takes its axes as an INPUT
 * while ReduceMean and ReduceL2 still take an `axes` ATTRIBUTE; the helpers here hide that.
 * Empty axes means every axis in core, and omitting axes means the same in ONNX.
 */
import type { NumelAttrs, ReduceAttrs } from '@siamese/core';
import { TensorProto_DataType } from '../proto/onnx_pb.js';
import { attr, type LoweringContext } from './context.js';
import type { Lowering } from './types.js';

export function reduceSumOf(
  ctx: LoweringContext,
  x: string,
  axes: readonly number[],
  keepDims: boolean,
  output?: string,
): string {
  const inputs = axes.length > 0 ? [x, ctx.int64s(axes)] : [x];
  return ctx.op('ReduceSum', inputs, [attr.int('keepdims', keepDims ? 1 : 0)], output);
}

/** ReduceMean, ReduceL2, ...: the reductions that still take axes as an attribute in opset 17. */
export function reduceWithAttr(
  ctx: LoweringContext,
  opType: 'ReduceMean' | 'ReduceL2',
  x: string,
  axes: readonly number[],
  keepDims: boolean,
  output?: string,
): string {
  const attrs = [attr.int('keepdims', keepDims ? 1 : 0)];
  if (axes.length > 0) attrs.unshift(attr.ints('axes', axes));
  return ctx.op(opType, [x], attrs, output);
}

export const reduceMean: Lowering<ReduceAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  reduceWithAttr(ctx, 'ReduceMean', inputs[0]!, a.axes, a.keepDims, outputs[0]);
};

export const reduceSum: Lowering<ReduceAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  reduceSumOf(ctx, inputs[0]!, a.axes, a.keepDims, outputs[0]);
};

/** The element count along axes: a constant when those dimensions are static, else Shape → Gather → ReduceProd. */
export const numel: Lowering<NumelAttrs> = ({ ctx, inputs, inputTypes, outputs, attrs: a }) => {
  const shape = inputTypes[0]!.shape;
  const axes =
    a.axes.length === 0 ? shape.map((_, i) => i) : a.axes.map((ax) => (ax + shape.length) % shape.length);
  const dims = axes.map((ax) => shape[ax]!);
  if (dims.every((d) => typeof d === 'number')) {
    ctx.op('Identity', [ctx.scalar(dims.reduce<number>((p, d) => p * (d as number), 1))], [], outputs[0]);
    return;
  }
  const picked = ctx.op('Gather', [ctx.op('Shape', [inputs[0]!]), ctx.int64s(axes)], [attr.int('axis', 0)]);
  const count = ctx.op('ReduceProd', [picked], [attr.int('keepdims', 0)]);
  ctx.op('Cast', [count], [attr.int('to', TensorProto_DataType.FLOAT)], outputs[0]);
};

/**
 * reduceMean → ReduceMean, reduceSum → ReduceSum. In opset 17 ReduceSum takes its axes as an INPUT
 * while ReduceMean and ReduceL2 still take an `axes` ATTRIBUTE; the helpers here hide that.
 * Empty axes means every axis in core, and omitting axes means the same in ONNX.
 */
import type { ReduceAttrs } from '@siamese/core';
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

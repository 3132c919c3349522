/**
 * flatten → Flatten (axis 1, the [N, D] case ONNX's 2-D Flatten matches) or Reshape; concat → Concat;
 * slice → Slice; reshapeLike → Reshape; broadcastTo → Unsqueeze + Expand; sumTo → ReduceSum + Reshape.
 */
import type {
  BroadcastToAttrs,
  ConcatAttrs,
  FlattenAttrs,
  NoAttrs,
  SliceAttrs,
  TensorType,
} from '@siamese/core';
import { attr, type LoweringContext } from './context.js';
import { reduceSumOf } from './reduce.js';
import type { Lowering } from './types.js';

export const flatten: Lowering<FlattenAttrs> = ({ ctx, inputs, inputTypes, outputs, attrs: a }) => {
  const rank = inputTypes[0]!.shape.length;
  const axis = a.axis < 0 ? a.axis + rank : a.axis;
  if (axis === 1) {
    ctx.op('Flatten', [inputs[0]!], [attr.int('axis', 1)], outputs[0]);
    return;
  }
  // Core keeps dimensions before `axis` (ONNX's Flatten always gives rank 2): 0 copies a dimension.
  const shape = [...Array<number>(axis).fill(0), -1];
  ctx.op('Reshape', [inputs[0]!, ctx.int64s(shape)], [], outputs[0]);
};

export const concat: Lowering<ConcatAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  ctx.op('Concat', inputs, [attr.int('axis', a.axis)], outputs[0]);
};

export const slice: Lowering<SliceAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  ctx.op(
    'Slice',
    [inputs[0]!, ctx.int64s([a.start]), ctx.int64s([a.end]), ctx.int64s([a.axis])],
    [],
    outputs[0],
  );
};

/** A static target shape becomes a constant; one with the batch symbol is read from `like` at run time. */
function shapeOf(ctx: LoweringContext, like: string, t: TensorType): string {
  return t.shape.every((d) => typeof d === 'number')
    ? ctx.int64s(t.shape as number[])
    : ctx.op('Shape', [like]);
}

export const reshapeLike: Lowering<NoAttrs> = ({ ctx, inputs, inputTypes, outputs }) => {
  ctx.op('Reshape', [inputs[0]!, shapeOf(ctx, inputs[1]!, inputTypes[1]!)], [], outputs[0]);
};

export const broadcastTo: Lowering<BroadcastToAttrs> = ({ ctx, inputs, inputTypes, outputs, attrs: a }) => {
  const x =
    a.insertAxes.length > 0 ? ctx.op('Unsqueeze', [inputs[0]!, ctx.int64s(a.insertAxes)]) : inputs[0]!;
  ctx.op('Expand', [x, shapeOf(ctx, inputs[1]!, inputTypes[1]!)], [], outputs[0]);
};

/** Sums the leading axes broadcasting added and the axes it stretched from 1, known from the static types. */
export const sumTo: Lowering<NoAttrs> = ({ ctx, inputs, inputTypes, outputs }) => {
  const [x, like] = [inputTypes[0]!.shape, inputTypes[1]!.shape];
  const lead = x.length - like.length;
  const axes: number[] = [];
  x.forEach((d, i) => {
    if (i < lead || (like[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  if (axes.length === 0) {
    ctx.op('Identity', [inputs[0]!], [], outputs[0]);
    return;
  }
  const summed = reduceSumOf(ctx, inputs[0]!, axes, true);
  ctx.op('Reshape', [summed, shapeOf(ctx, inputs[1]!, inputTypes[1]!)], [], outputs[0]);
};

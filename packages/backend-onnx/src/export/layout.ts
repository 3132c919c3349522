/** flatten → Flatten (axis 1, the [N, D] case ONNX's 2-D Flatten matches) or Reshape; concat → Concat. */
import type { ConcatAttrs, FlattenAttrs } from '@siamese/core';
import { attr } from './context.js';
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

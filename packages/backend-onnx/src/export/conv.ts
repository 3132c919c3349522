/** conv2d → Conv. Core pads symmetrically: ONNX wants [top, left, bottom, right]. */
import type { Conv2dAttrs } from '@siamese/core';
import { attr } from './context.js';
import type { Lowering } from './types.js';

export const conv2d: Lowering<Conv2dAttrs> = ({ ctx, inputs, inputTypes, outputs, attrs: a }) => {
  const [x, w, b] = inputs;
  const wShape = inputTypes[1]!.shape;
  ctx.op(
    'Conv',
    b ? [x!, w!, b] : [x!, w!],
    [
      attr.ints('kernel_shape', wShape.slice(2) as number[]),
      attr.ints('strides', a.stride),
      attr.ints('pads', [a.padding[0], a.padding[1], a.padding[0], a.padding[1]]),
      attr.ints('dilations', a.dilation),
      attr.int('group', a.groups),
    ],
    outputs[0],
  );
};

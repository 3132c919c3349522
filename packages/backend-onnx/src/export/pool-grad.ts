/**
 * maxPool2dGrad → MaxPool's Indices output (flat positions in x, first maximum of each window) and a
 * ScatterElements with reduction 'add' of dy into a zero tensor the size of x.
 */
import type { MaxPool2dAttrs } from '@siamese/core';
import { attr } from './context.js';
import type { Lowering } from './types.js';

export const maxPool2dGrad: Lowering<MaxPool2dAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  const [x, dy] = [inputs[0]!, inputs[1]!];
  const values = ctx.fresh(`${x}/pooled`);
  const indices = ctx.fresh(`${x}/argmax`);
  ctx.node(
    'MaxPool',
    [x],
    [values, indices],
    [
      attr.ints('kernel_shape', a.kernel),
      attr.ints('strides', a.stride),
      attr.ints('pads', [a.padding[0], a.padding[1], a.padding[0], a.padding[1]]),
      attr.ints('dilations', a.dilation),
      attr.int('ceil_mode', a.ceilMode ? 1 : 0),
    ],
  );
  const flat = ctx.int64s([-1]);
  const zeros = ctx.op('ConstantOfShape', [ctx.op('Reshape', [ctx.op('Size', [x]), flat])]);
  const summed = ctx.op(
    'ScatterElements',
    [zeros, ctx.op('Reshape', [indices, flat]), ctx.op('Reshape', [dy, flat])],
    [attr.int('axis', 0), attr.string('reduction', 'add')],
  );
  ctx.op('Reshape', [summed, ctx.op('Shape', [x])], [], outputs[0]);
};

/** batchNorm in eval mode → BatchNormalization with the running statistics (the int64 counter is unused). */
import type { BatchNormAttrs } from '@siamese/core';
import { attr } from './context.js';
import type { Lowering } from './types.js';

export const batchNorm: Lowering<BatchNormAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  const [x, weight, bias, mean, variance] = inputs;
  // ONNX momentum is the weight of the OLD running value (1 - PyTorch's); unused in inference anyway.
  ctx.op(
    'BatchNormalization',
    [x!, weight!, bias!, mean!, variance!],
    [attr.float('epsilon', a.eps), attr.float('momentum', 1 - a.momentum)],
    outputs[0],
  );
};

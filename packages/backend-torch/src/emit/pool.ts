/** maxPool2d → F.max_pool2d (PyTorch's -inf padding and ceil mode are the op's), globalAvgPool. */
import type { MaxPool2dAttrs } from '@siamese/core';
import { bool, ints } from './python.js';
import { type Emit, type NotEmitted, notEmitted } from './types.js';

export const maxPool2d: Emit<MaxPool2dAttrs> = ({ input, attrs: a }) => {
  const options = [
    `stride=${ints(a.stride, true)}`,
    a.padding.some((p) => p !== 0) ? `padding=${ints(a.padding, true)}` : '',
    a.dilation.some((d) => d !== 1) ? `dilation=${ints(a.dilation, true)}` : '',
    a.ceilMode ? `ceil_mode=${bool(a.ceilMode)}` : '',
  ].filter(Boolean);
  return `F.max_pool2d(${input(0)}, ${ints(a.kernel, true)}, ${options.join(', ')})`;
};

/** torchvision's avgpool: nn.AdaptiveAvgPool2d((1, 1)). */
export const globalAvgPool: Emit<Record<string, never>> = ({ input }) =>
  `F.adaptive_avg_pool2d(${input(0)}, 1)`;

export const maxPool2dGrad: NotEmitted = notEmitted(
  "a gradient op of core's autodiff; torch's autograd computes gradients",
);

/** flatten, concat, slice and reshapeLike as torch calls; broadcastTo and sumTo are autodiff's. */
import type { ConcatAttrs, FlattenAttrs, SliceAttrs } from '@siamese/core';
import { num } from './python.js';
import { type Emit, type NotEmitted, notEmitted } from './types.js';

export const flatten: Emit<FlattenAttrs> = ({ input, attrs: a }) =>
  `torch.flatten(${input(0)}, ${num(a.axis)})`;

export const concat: Emit<ConcatAttrs> = ({ node, input, attrs: a }) =>
  `torch.cat([${node.inputs.map((_, i) => input(i)).join(', ')}], dim=${num(a.axis)})`;

export const slice: Emit<SliceAttrs> = ({ input, attrs: a }) =>
  `torch.narrow(${input(0)}, ${num(a.axis)}, ${num(a.start)}, ${num(a.end - a.start)})`;

export const reshapeLike: Emit<Record<string, never>> = ({ input }) =>
  `${input(0)}.reshape(${input(1)}.shape)`;

const GRADIENT = "a gradient op of core's autodiff; torch's autograd computes gradients";
export const broadcastTo: NotEmitted = notEmitted(GRADIENT);
export const sumTo: NotEmitted = notEmitted(GRADIENT);

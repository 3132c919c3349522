/** reduceMean, reduceSum and numel over a list of axes (all when empty). */
import type { NumelAttrs, ReduceAttrs } from '@siamese/core';
import { bool, ints } from './python.js';
import type { Emit } from './types.js';

const reduction =
  (method: 'mean' | 'sum'): Emit<ReduceAttrs> =>
  ({ input, attrs: a }) =>
    a.axes.length === 0 && !a.keepDims
      ? `${input(0)}.${method}()`
      : `${input(0)}.${method}(dim=${a.axes.length === 0 ? `tuple(range(${input(0)}.dim()))` : ints(a.axes)}, keepdim=${bool(a.keepDims)})`;

export const reduceMean = reduction('mean');
export const reduceSum = reduction('sum');

export const numel: Emit<NumelAttrs> = ({ input, attrs: a }) =>
  a.axes.length === 0
    ? `torch.tensor(float(${input(0)}.numel()), device=${input(0)}.device)`
    : `torch.tensor(float(math.prod(${input(0)}.shape[i] for i in ${ints(a.axes)})), device=${input(0)}.device)`;

/** Reductions: reduceMean and reduceSum over a list of axes. */
import { ShapeError } from '../ir/errors.js';
import { boundSize } from '../ir/shape.js';
import type { Dim } from '../ir/types.js';
import { bool, checkKnown, intList } from './attrs.js';
import { float, need, normAxis } from './check.js';
import type { OpSpec } from './spec.js';

export interface ReduceAttrs {
  /** Axes to reduce; empty means all. */
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

function reduction(doc: string): OpSpec<ReduceAttrs> {
  return {
    doc,
    inputs: [{ name: 'x' }],
    outputs: ['y'],
    attrs: (raw) => {
      checkKnown(raw, ['axes', 'keepDims']);
      return { axes: intList(raw, 'axes', []), keepDims: bool(raw, 'keepDims', false) };
    },
    shape: ([xt], a) => {
      const x = float(xt, 'x');
      const r = x.shape.length;
      const axes =
        a.axes.length === 0 ? x.shape.map((_, i) => i) : a.axes.map((ax) => normAxis(ax, r, 'axes'));
      if (new Set(axes).size !== axes.length)
        throw new ShapeError(`attribute 'axes' repeats an axis: [${a.axes.join(',')}]`);
      const shape: Dim[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (a.keepDims) shape.push(1);
      });
      return [{ dtype: 'float32', shape }];
    },
    flops: ([x], _o, _a, bind) => boundSize(x!.shape, bind),
  };
}

export const reduceMean = reduction('Mean over the given axes (all when empty).');
export const reduceSum = reduction('Sum over the given axes (all when empty).');

export interface NumelAttrs {
  /** Axes to count; empty means all. */
  readonly axes: readonly number[];
}

export const numel: OpSpec<NumelAttrs> = {
  doc: 'y = the number of elements of x along the given axes (all when empty), as a float32 scalar; values are not read.',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['axes']);
    return { axes: intList(raw, 'axes', []) };
  },
  shape: ([xt], a) => {
    const x = need(xt, 'x');
    for (const ax of a.axes) normAxis(ax, x.shape.length, 'axes');
    return [{ dtype: 'float32', shape: [] }];
  },
  flops: () => 0,
};

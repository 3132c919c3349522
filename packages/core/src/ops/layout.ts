/** Shape-only ops: flatten and concat. */
import { ShapeError } from '../ir/errors.js';
import { formatType } from '../ir/shape.js';
import type { Dim, TensorType } from '../ir/types.js';
import { checkKnown, int } from './attrs.js';
import { float, normAxis, staticDim } from './check.js';
import type { OpSpec } from './spec.js';

export interface FlattenAttrs {
  /** Dimensions from `axis` on are merged into one (torch.flatten(x, axis)). */
  readonly axis: number;
}

export const flatten: OpSpec<FlattenAttrs> = {
  doc: 'Merges dimensions axis..end into one: [N, C, H, W] -> [N, C*H*W] for axis 1.',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['axis']);
    return { axis: int(raw, 'axis', 1) };
  },
  shape: ([xt], a) => {
    const x = float(xt, 'x');
    const ax = normAxis(a.axis, x.shape.length);
    const tail = x.shape.slice(ax).reduce<number>((p, d, i) => p * staticDim(d, `dimension ${ax + i}`), 1);
    return [{ dtype: 'float32', shape: [...x.shape.slice(0, ax), tail] }];
  },
  flops: () => 0,
};

export interface ConcatAttrs {
  readonly axis: number;
}

export const concat: OpSpec<ConcatAttrs> = {
  doc: 'Joins inputs along axis; every other dimension must match.',
  inputs: [{ name: 'xs', variadic: true }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['axis']);
    return { axis: int(raw, 'axis', 1) };
  },
  shape: (inputs, a) => {
    if (inputs.length === 0) throw new ShapeError('concat needs at least one input');
    const xs = inputs.map((t, i) => float(t, `xs[${i}]`));
    const first = xs[0] as TensorType;
    const ax = normAxis(a.axis, first.shape.length);
    let total = 0;
    for (const [i, x] of xs.entries()) {
      if (x.shape.length !== first.shape.length || x.shape.some((d, j) => j !== ax && d !== first.shape[j])) {
        throw new ShapeError(
          `xs[${i}] ${formatType(x)} does not match xs[0] ${formatType(first)} outside axis ${ax}`,
        );
      }
      total += staticDim(x.shape[ax], `xs[${i}] dimension ${ax}`);
    }
    const shape: Dim[] = [...first.shape];
    shape[ax] = total;
    return [{ dtype: 'float32', shape }];
  },
  flops: () => 0,
};

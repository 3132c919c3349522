/** Shape-only ops: flatten, concat, slice, reshapeLike, and the broadcast pair broadcastTo / sumTo. */
import { ShapeError } from '../ir/errors.js';
import { boundSize, formatType } from '../ir/shape.js';
import type { Dim, Shape, TensorType } from '../ir/types.js';
import { checkKnown, int, intList, none } from './attrs.js';
import { broadcast, float, need, normAxis, staticDim } from './check.js';
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

/** Static element count and the sorted list of symbols of a shape, to compare sizes that hold symbols. */
function sizeKey(shape: Shape): string {
  let n = 1;
  const syms: string[] = [];
  for (const d of shape) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  return `${n}*${syms.sort().join('*')}`;
}

export const reshapeLike: OpSpec<Record<string, never>> = {
  doc: "y = x with the shape of like (row-major order kept); like's values are not read.",
  inputs: [{ name: 'x' }, { name: 'like' }],
  outputs: ['y'],
  attrs: none,
  shape: ([xt, lt]) => {
    const x = float(xt, 'x');
    const like = need(lt, 'like');
    if (sizeKey(x.shape) !== sizeKey(like.shape))
      throw new ShapeError(
        `x ${formatType(x)} cannot take the shape of like ${formatType(like)}: sizes differ`,
      );
    return [{ dtype: 'float32', shape: like.shape }];
  },
  flops: () => 0,
};

export interface SliceAttrs {
  readonly axis: number;
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

export const slice: OpSpec<SliceAttrs> = {
  doc: 'y = x[start:end] along axis (end exclusive; the backward of concat).',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['axis', 'start', 'end']);
    const a = { axis: int(raw, 'axis', 1), start: int(raw, 'start', 0, 0), end: int(raw, 'end', 1, 1) };
    if (a.end <= a.start) throw new ShapeError(`attribute 'end' ${a.end} must exceed 'start' ${a.start}`);
    return a;
  },
  shape: ([xt], a) => {
    const x = float(xt, 'x');
    const ax = normAxis(a.axis, x.shape.length);
    const size = staticDim(x.shape[ax], `dimension ${ax}`);
    if (a.end > size)
      throw new ShapeError(`attribute 'end' ${a.end} is past dimension ${ax} of size ${size}`);
    const shape: Dim[] = [...x.shape];
    shape[ax] = a.end - a.start;
    return [{ dtype: 'float32', shape }];
  },
  flops: () => 0,
};

export interface BroadcastToAttrs {
  /** Axes of the output where x gets a size-1 dimension first (the axes a reduction dropped). */
  readonly insertAxes: readonly number[];
}

export const broadcastTo: OpSpec<BroadcastToAttrs> = {
  doc: "y = x, with size-1 dimensions inserted at insertAxes, broadcast to the shape of like; like's values are not read.",
  inputs: [{ name: 'x' }, { name: 'like' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['insertAxes']);
    return { insertAxes: intList(raw, 'insertAxes', []) };
  },
  shape: ([xt, lt], a) => {
    const x = float(xt, 'x');
    const like = need(lt, 'like');
    const r = like.shape.length;
    if (x.shape.length + a.insertAxes.length !== r)
      throw new ShapeError(
        `x ${formatType(x)} with ${a.insertAxes.length} inserted axes does not have the rank of like ${formatType(like)}`,
      );
    const inserted = new Set(a.insertAxes.map((ax) => normAxis(ax, r, 'insertAxes')));
    const expanded: Dim[] = [];
    let k = 0;
    for (let i = 0; i < r; i++) expanded.push(inserted.has(i) ? 1 : x.shape[k++]!);
    if (broadcast(expanded, like.shape).some((d, i) => d !== like.shape[i]))
      throw new ShapeError(`x ${formatType(x)} does not broadcast to like ${formatType(like)}`);
    return [{ dtype: 'float32', shape: like.shape }];
  },
  flops: () => 0,
};

export const sumTo: OpSpec<Record<string, never>> = {
  doc:
    "y = x summed over the dimensions that numpy broadcasting added or stretched to reach x from like's shape " +
    "(the backward of a broadcast); y has like's shape, like's values are not read.",
  inputs: [{ name: 'x' }, { name: 'like' }],
  outputs: ['y'],
  attrs: none,
  shape: ([xt, lt]) => {
    const x = float(xt, 'x');
    const like = need(lt, 'like');
    if (like.shape.length > x.shape.length || broadcast(like.shape, x.shape).some((d, i) => d !== x.shape[i]))
      throw new ShapeError(`like ${formatType(like)} does not broadcast to x ${formatType(x)}`);
    return [{ dtype: 'float32', shape: like.shape }];
  },
  flops: ([x], _o, _a, bind) => boundSize(x!.shape, bind),
};

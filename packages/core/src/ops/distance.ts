/** Embedding geometry: l2Normalize, euclideanDistance, cosineSimilarity over [N, D] rows. */
import { ShapeError } from '../ir/errors.js';
import { boundSize, formatType, shapesEqual } from '../ir/shape.js';
import { checkKnown, int, num } from './attrs.js';
import { float, normAxis } from './check.js';
import type { OpSpec } from './spec.js';

export interface L2NormalizeAttrs {
  readonly axis: number;
  readonly eps: number;
}

export const l2Normalize: OpSpec<L2NormalizeAttrs> = {
  doc: 'y = x / max(||x||_2 along axis, eps) (torch.nn.functional.normalize).',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['axis', 'eps']);
    return { axis: int(raw, 'axis', 1), eps: num(raw, 'eps', 1e-12, 0) };
  },
  shape: ([xt], a) => {
    const x = float(xt, 'x');
    normAxis(a.axis, x.shape.length);
    return [{ dtype: 'float32', shape: x.shape }];
  },
  flops: (_i, [y], _a, bind) => 3 * boundSize(y!.shape, bind),
};

export interface DistanceAttrs {
  readonly eps: number;
}

function rowPair(at: Parameters<OpSpec<unknown>['shape']>[0][number], bt: typeof at) {
  const a = float(at, 'a', 2);
  const b = float(bt, 'b', 2);
  if (!shapesEqual(a.shape, b.shape))
    throw new ShapeError(`a ${formatType(a)} and b ${formatType(b)} must have the same shape`);
  return a;
}

export const euclideanDistance: OpSpec<DistanceAttrs> = {
  doc: 'd = sqrt(sum((a - b)^2, axis 1) + eps), shape [N, 1]; eps keeps the gradient finite at a = b.',
  inputs: [{ name: 'a' }, { name: 'b' }],
  outputs: ['d'],
  attrs: (raw) => {
    checkKnown(raw, ['eps']);
    return { eps: num(raw, 'eps', 1e-12, 0) };
  },
  shape: ([at, bt]) => [{ dtype: 'float32', shape: [rowPair(at, bt).shape[0]!, 1] }],
  flops: ([a], _o, _a, bind) => 2 * boundSize(a!.shape, bind),
};

export const cosineSimilarity: OpSpec<DistanceAttrs> = {
  doc: 's = sum(a * b, axis 1) / (max(||a||, eps) * max(||b||, eps)), shape [N, 1] (torch 1.13 cosine_similarity).',
  inputs: [{ name: 'a' }, { name: 'b' }],
  outputs: ['s'],
  attrs: (raw) => {
    checkKnown(raw, ['eps']);
    return { eps: num(raw, 'eps', 1e-8, 0) };
  },
  shape: ([at, bt]) => [{ dtype: 'float32', shape: [rowPair(at, bt).shape[0]!, 1] }],
  flops: ([a], _o, _a, bind) => 3 * boundSize(a!.shape, bind),
};

/** Element-wise ops: unary (relu, abs, sigmoid, sqrt, exp, sign), broadcasting binary (add, sub, mul, div, reluGrad), scale and clamp. */

import { ShapeError } from '../ir/errors.js';
import { boundSize } from '../ir/shape.js';
import { checkKnown, none, num } from './attrs.js';
import { broadcast, float } from './check.js';
import type { OpSpec } from './spec.js';

/** The attributes of an op that takes none. */
export type NoAttrs = Record<string, never>;

function unary(doc: string): OpSpec<NoAttrs> {
  return {
    doc,
    inputs: [{ name: 'x' }],
    outputs: ['y'],
    attrs: none,
    shape: ([x]) => [{ dtype: 'float32', shape: float(x, 'x').shape }],
    flops: (_i, [y], _a, bind) => boundSize(y!.shape, bind),
  };
}

function binary(doc: string): OpSpec<NoAttrs> {
  return {
    doc,
    inputs: [{ name: 'a' }, { name: 'b' }],
    outputs: ['y'],
    attrs: none,
    shape: ([a, b]) => [{ dtype: 'float32', shape: broadcast(float(a, 'a').shape, float(b, 'b').shape) }],
    flops: (_i, [y], _a, bind) => boundSize(y!.shape, bind),
  };
}

export const relu = unary('y = max(x, 0), element-wise.');
export const abs = unary('y = |x|, element-wise (the absdiff combine).');
export const sigmoid = unary('y = 1 / (1 + exp(-x)), element-wise (logit to probability).');
export const add = binary('y = a + b, numpy broadcasting.');
export const sub = binary('y = a - b, numpy broadcasting.');
export const mul = binary('y = a * b, numpy broadcasting.');

export const div = binary('y = a / b, numpy broadcasting.');
export const sqrt = unary('y = sqrt(x), element-wise.');
export const exp = unary('y = exp(x), element-wise.');
export const sign = unary('y = -1, 0 or 1 by the sign of x, element-wise (the derivative of abs).');
export const reluGrad = binary(
  'y = a where b > 0, else 0; numpy broadcasting (the gradient a of relu, gated by its input or output b).',
);

export interface ScaleAttrs {
  readonly alpha: number;
  readonly beta: number;
}

export const scale: OpSpec<ScaleAttrs> = {
  doc: 'y = alpha * x + beta, element-wise (constant arithmetic without constant tensors).',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['alpha', 'beta']);
    return { alpha: num(raw, 'alpha', 1), beta: num(raw, 'beta', 0) };
  },
  shape: ([x]) => [{ dtype: 'float32', shape: float(x, 'x').shape }],
  flops: (_i, [y], _a, bind) => boundSize(y!.shape, bind),
};

export interface ClampAttrs {
  /** Lower bound, or null for none. */
  readonly min: number | null;
  /** Upper bound, or null for none. */
  readonly max: number | null;
}

function bound(raw: Readonly<Record<string, unknown>>, key: string): number | null {
  const v = raw[key] ?? null;
  return v === null ? null : num(raw, key, 0);
}

export const clamp: OpSpec<ClampAttrs> = {
  doc: 'y = min(max(x, min), max), element-wise; a null bound is absent.',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['min', 'max']);
    const a = { min: bound(raw, 'min'), max: bound(raw, 'max') };
    if (a.min !== null && a.max !== null && a.min > a.max)
      throw new ShapeError(`attribute 'min' ${a.min} must not exceed 'max' ${a.max}`);
    return a;
  },
  shape: ([x]) => [{ dtype: 'float32', shape: float(x, 'x').shape }],
  flops: (_i, [y], _a, bind) => boundSize(y!.shape, bind),
};

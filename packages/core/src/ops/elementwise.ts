/** Element-wise ops: unary (relu, abs, sigmoid) and broadcasting binary (add, sub, mul). */
import { boundSize } from '../ir/shape.js';
import { none } from './attrs.js';
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

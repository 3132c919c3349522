/** Element-wise ops as torch expressions; reluGrad is autodiff's and is not emitted. */
import type { ClampAttrs, ScaleAttrs } from '@siamese/core';
import { num } from './python.js';
import { type Emit, type NotEmitted, notEmitted } from './types.js';

const call =
  (fn: string): Emit<Record<string, never>> =>
  ({ input }) =>
    `${fn}(${input(0)})`;
const infix =
  (operator: string): Emit<Record<string, never>> =>
  ({ input }) =>
    `${input(0)} ${operator} ${input(1)}`;

export const relu = call('F.relu');
export const abs = call('torch.abs');
export const sigmoid = call('torch.sigmoid');
export const sqrt = call('torch.sqrt');
export const exp = call('torch.exp');
export const sign = call('torch.sign');
export const add = infix('+');
export const sub = infix('-');
export const mul = infix('*');
export const div = infix('/');

export const scale: Emit<ScaleAttrs> = ({ input, attrs: a }) =>
  a.beta === 0 ? `${num(a.alpha)} * ${input(0)}` : `${num(a.alpha)} * ${input(0)} + ${num(a.beta)}`;

export const clamp: Emit<ClampAttrs> = ({ input, attrs: a }) =>
  `torch.clamp(${input(0)}, min=${a.min === null ? 'None' : num(a.min)}, max=${a.max === null ? 'None' : num(a.max)})`;

export const reluGrad: NotEmitted = notEmitted(
  "a gradient op of core's autodiff; torch's autograd computes gradients",
);

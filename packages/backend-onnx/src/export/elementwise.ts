/** Element-wise ops map one to one (scale, clamp and reluGrad to two); ONNX broadcasts like numpy, as core does. */
import type { ClampAttrs, ScaleAttrs } from '@siamese/core';
import type { Lowering } from './types.js';

type NoAttrs = Record<string, never>;

function direct(opType: string): Lowering<NoAttrs> {
  return ({ ctx, inputs, outputs }) => {
    ctx.op(opType, inputs, [], outputs[0]);
  };
}

export const relu = direct('Relu');
export const abs = direct('Abs');
export const sigmoid = direct('Sigmoid');
export const add = direct('Add');
export const sub = direct('Sub');
export const mul = direct('Mul');

export const div = direct('Div');
export const sqrt = direct('Sqrt');
export const exp = direct('Exp');
export const sign = direct('Sign');

/** alpha * x + beta, skipping the multiply or add when it is the identity. */
export const scale: Lowering<ScaleAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  const x = inputs[0]!;
  if (a.alpha === 1 && a.beta === 0) {
    ctx.op('Identity', [x], [], outputs[0]);
    return;
  }
  const scaled =
    a.alpha === 1 ? x : ctx.op('Mul', [x, ctx.scalar(a.alpha)], [], a.beta === 0 ? outputs[0] : undefined);
  if (a.beta !== 0) ctx.op('Add', [scaled, ctx.scalar(a.beta)], [], outputs[0]);
};

/** Clip takes its bounds as optional scalar inputs in opset 17. */
export const clamp: Lowering<ClampAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  const lo = a.min === null ? '' : ctx.scalar(a.min);
  const hi = a.max === null ? '' : ctx.scalar(a.max);
  ctx.op('Clip', hi ? [inputs[0]!, lo, hi] : lo ? [inputs[0]!, lo] : [inputs[0]!], [], outputs[0]);
};

/** a where b > 0, else 0: Where broadcasts its three inputs like numpy. */
export const reluGrad: Lowering<NoAttrs> = ({ ctx, inputs, outputs }) => {
  const open = ctx.op('Greater', [inputs[1]!, ctx.scalar(0)]);
  ctx.op('Where', [open, inputs[0]!, ctx.scalar(0)], [], outputs[0]);
};

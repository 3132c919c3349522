/** Element-wise ops map one to one; ONNX broadcasts like numpy, as core does. */
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

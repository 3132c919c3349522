/** What a lowering gets (the context, the node, its inputs as Python expressions, types, attrs) and gives. */
import type { Node, TensorType } from '@siamese/core';
import type { EmitContext } from './context.js';

export interface EmitArgs<A> {
  readonly ctx: EmitContext;
  readonly node: Node;
  /** The Python expression of input `index` (a parameter read this way is registered on the module tree). */
  readonly input: (index: number) => string;
  readonly inputTypes: readonly (TensorType | undefined)[];
  readonly outputTypes: readonly TensorType[];
  /** The op's attributes with defaults filled in. */
  readonly attrs: A;
}

/** Lowers one core node to one Python expression: the value of its (first) output. */
export type Emit<A> = (args: EmitArgs<A>) => string;

/** An op the PyTorch target does not emit, and why. */
export interface NotEmitted {
  readonly notEmitted: string;
}

export type Lowering<A> = Emit<A> | NotEmitted;

export function notEmitted(why: string): NotEmitted {
  return { notEmitted: why };
}

/** What a lowering gets: the context, the core node's ONNX-named inputs and outputs, their types, attrs. */
import type { Node, TensorType } from '@siamese/core';
import type { LoweringContext } from './context.js';

export interface LoweringArgs<A> {
  readonly ctx: LoweringContext;
  readonly node: Node;
  /** ONNX names of the node's inputs, in the op's order; `''` for an omitted optional input. */
  readonly inputs: readonly string[];
  readonly inputTypes: readonly (TensorType | undefined)[];
  /** ONNX names the lowering must write, one per core output (already reserved). */
  readonly outputs: readonly string[];
  readonly outputTypes: readonly TensorType[];
  /** The op's attributes with defaults filled in. */
  readonly attrs: A;
}

/** Lowers one core node (inference / eval mode) to ONNX opset 17 nodes. */
export type Lowering<A> = (args: LoweringArgs<A>) => void;

/** The ONNX opset every lowering targets. */
export const OPSET = 17;

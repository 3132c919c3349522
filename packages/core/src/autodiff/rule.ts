/** What a vector-Jacobian rule sees and returns. */
import type { GraphBuilder } from '../ir/builder.js';
import type { Node, Value } from '../ir/types.js';

export interface VjpArgs<A> {
  /** Emits the backward nodes (names are already scoped to `grad/<node>`). */
  readonly b: GraphBuilder;
  readonly node: Node;
  readonly attrs: A;
  /** The node's inputs (undefined for an omitted optional one) and outputs. */
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  /** The gradient of the loss with respect to each output; undefined where none flows back. */
  readonly dys: readonly (Value | undefined)[];
  /** Which inputs need a gradient: a rule may skip the others. */
  readonly needs: readonly boolean[];
}

/** Gradients with respect to the node's inputs, in input order; undefined for none (or not needed). */
export type VjpRule<A> = (args: VjpArgs<A>) => (Value | undefined)[];

export class AutodiffError extends Error {
  override name = 'AutodiffError';
}

/** The gradient of the only output, or an error naming the node if another output carries one. */
export function onlyDy(args: VjpArgs<unknown>): Value {
  args.dys.forEach((d, i) => {
    if (i > 0 && d) {
      throw new AutodiffError(
        `node '${args.node.name}' (${args.node.op}): no gradient flows through its output ${i}`,
      );
    }
  });
  return args.dys[0]!;
}

/** `x` reduced back to `like`'s shape when a broadcast widened it; `x` itself when shapes agree. */
export function unbroadcast(b: GraphBuilder, x: Value, like: Value, name: string): Value {
  const same = x.shape.length === like.shape.length && x.shape.every((d, i) => d === like.shape[i]);
  return same ? x : b.op('sumTo', [x, like], {}, name);
}

/** Errors raised while building, checking or reading graphs. Messages name the node at fault. */

/** A shape or attribute rule rejected its inputs. Raised by op rules; wrapped with the node name. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** A graph failed verification (or could not be built): names the node, its inputs and the rule. */
export class GraphError extends Error {
  override name = 'GraphError';
  constructor(
    message: string,
    readonly node?: string,
  ) {
    super(message);
  }
}

/** Type inference for one node: the check shared by the builder and `verify`. */
import { isOpName, OPS, type OpName, untypedSpec } from '../ops/table.js';
import { GraphError, ShapeError } from './errors.js';
import { formatType } from './shape.js';
import type { TensorType } from './types.js';

export interface NodeLike {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * Validates a node's arity and attributes and runs its shape rule. `lookup` gives the type of a
 * value defined earlier (undefined when it is not). Returns the normalized attrs and output types.
 */
export function inferNode(
  node: NodeLike,
  lookup: (value: string) => TensorType | undefined,
): { op: OpName; attrs: Record<string, unknown>; outputs: TensorType[] } {
  const where = `node '${node.name}' (${node.op})`;
  if (!isOpName(node.op)) {
    throw new GraphError(
      `${where}: unknown op '${node.op}' (known ops: ${Object.keys(OPS).join(', ')})`,
      node.name,
    );
  }
  const spec = untypedSpec(node.op);
  const variadic = spec.inputs.at(-1)?.variadic === true;
  const required = spec.inputs.filter((i) => !i.optional).length;
  if (node.inputs.length < required || (!variadic && node.inputs.length > spec.inputs.length)) {
    const want = variadic ? `at least ${required}` : `${required}..${spec.inputs.length}`;
    throw new GraphError(
      `${where}: takes ${want} inputs (${spec.inputs.map((i) => i.name).join(', ')}), got ${node.inputs.length}`,
      node.name,
    );
  }
  const types = node.inputs.map((v, i) => {
    const slot = spec.inputs[Math.min(i, spec.inputs.length - 1)]!;
    if (v === '') {
      if (!slot.optional)
        throw new GraphError(`${where}: required input '${slot.name}' is omitted`, node.name);
      return undefined;
    }
    const t = lookup(v);
    if (!t)
      throw new GraphError(
        `${where}: input '${slot.name}' refers to '${v}', which is not defined before this node`,
        node.name,
      );
    return t;
  });
  const describeInputs = (): string =>
    node.inputs
      .map((v, i) =>
        `${spec.inputs[Math.min(i, spec.inputs.length - 1)]!.name}=${v || '(none)'} ${types[i] ? formatType(types[i]) : ''}`.trim(),
      )
      .join(', ');
  try {
    const attrs = spec.attrs(node.attrs);
    return { op: node.op, attrs, outputs: spec.shape(types, attrs) };
  } catch (e) {
    if (e instanceof ShapeError) {
      throw new GraphError(`${where}: ${e.message}; inputs: ${describeInputs()}`, node.name);
    }
    throw e;
  }
}

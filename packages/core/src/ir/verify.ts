/** Re-runs every shape rule over a graph and names the first node that breaks one. */
import { GraphError } from './errors.js';
import { inferNode } from './infer.js';
import { formatType, shapesEqual } from './shape.js';
import type { Graph, TensorType } from './types.js';

export function verify(graph: Graph): void {
  const types = new Map<string, TensorType>();
  const define = (name: string, t: TensorType, what: string): void => {
    if (!name) throw new GraphError(`${what} has an empty name`);
    if (types.has(name)) throw new GraphError(`${what} '${name}' reuses a name already defined in the graph`);
    types.set(name, t);
  };
  for (const v of graph.inputs) define(v.name, v, 'input');
  for (const p of graph.params) {
    if (p.shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
      throw new GraphError(`${p.kind} '${p.name}' must have a static shape, got ${formatType(p)}`);
    }
    if (p.trainable && p.kind === 'buffer') throw new GraphError(`buffer '${p.name}' cannot be trainable`);
    define(p.name, p, p.kind);
  }
  for (const node of graph.nodes) {
    const { outputs } = inferNode(node, (v) => types.get(v));
    if (node.outputs.length !== outputs.length) {
      throw new GraphError(
        `node '${node.name}' (${node.op}): has ${node.outputs.length} outputs, the op gives ${outputs.length}`,
        node.name,
      );
    }
    node.outputs.forEach((name, i) => {
      const inferred = outputs[i]!;
      const declared = graph.values[name];
      if (!declared)
        throw new GraphError(
          `node '${node.name}' (${node.op}): output '${name}' has no declared type`,
          node.name,
        );
      if (declared.dtype !== inferred.dtype || !shapesEqual(declared.shape, inferred.shape)) {
        throw new GraphError(
          `node '${node.name}' (${node.op}): output '${name}' is declared ${formatType(declared)} but the shape rule gives ${formatType(inferred)}`,
          node.name,
        );
      }
      define(name, inferred, `output of node '${node.name}'`);
    });
  }
  const outNames = new Set<string>();
  for (const o of graph.outputs) {
    if (outNames.has(o.name)) throw new GraphError(`graph output '${o.name}' is declared twice`);
    outNames.add(o.name);
    if (!types.has(o.value))
      throw new GraphError(`graph output '${o.name}' refers to '${o.value}', which is not defined`);
  }
}

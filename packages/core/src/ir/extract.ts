/**
 * Cuts a sub-graph: the nodes needed to compute some values from others. Exporters use it for the
 * encoder (image -> embedding) and head (two embeddings -> logit) cuts of a Siamese graph.
 */
import { GraphError } from './errors.js';
import type { Graph, GraphOutput, Node, TensorType, Value } from './types.js';
import { verify } from './verify.js';

export interface Cut {
  readonly name: string;
  /** Values that become inputs of the cut, with their public names. Graph inputs reached are kept as they are. */
  readonly inputs: readonly { readonly name: string; readonly value: string }[];
  /** Public output names and the values they expose (graph output names are accepted as values too). */
  readonly outputs: readonly GraphOutput[];
}

export function extract(graph: Graph, cut: Cut): Graph {
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const typeOf = (v: string): TensorType | undefined =>
    graph.values[v] ?? graph.inputs.find((i) => i.name === v) ?? graph.params.find((p) => p.name === v);
  const graphOutput = new Map(graph.outputs.map((o) => [o.name, o.value]));
  const resolve = (v: string): string => (typeOf(v) ? v : (graphOutput.get(v) ?? v));

  const rename = new Map<string, string>();
  const inputs: Value[] = [];
  for (const i of cut.inputs) {
    const value = resolve(i.value);
    const t = typeOf(value);
    if (!t) throw new GraphError(`cut '${cut.name}': input '${i.name}' refers to unknown value '${i.value}'`);
    rename.set(value, i.name);
    inputs.push({ name: i.name, dtype: t.dtype, shape: t.shape });
  }

  const needed = new Set<Node>();
  const usedParams = new Set<string>();
  const paramNames = new Set(graph.params.map((p) => p.name));
  const visit = (v: string): void => {
    if (rename.has(v)) return;
    if (paramNames.has(v)) {
      usedParams.add(v);
      return;
    }
    const n = producer.get(v);
    if (!n) {
      const original = graph.inputs.find((i) => i.name === v);
      if (!original)
        throw new GraphError(`cut '${cut.name}': value '${v}' is not defined in graph '${graph.name}'`);
      if (!inputs.some((i) => i.name === v)) inputs.push(original);
      rename.set(v, v);
      return;
    }
    if (needed.has(n)) return;
    needed.add(n);
    for (const i of n.inputs) if (i) visit(i);
  };
  const outputs = cut.outputs.map((o) => {
    const value = resolve(o.value);
    visit(value);
    return { name: o.name, value: rename.get(value) ?? value };
  });

  const r = (v: string): string => (v ? (rename.get(v) ?? v) : v);
  const nodes = graph.nodes.filter((n) => needed.has(n)).map((n) => ({ ...n, inputs: n.inputs.map(r) }));
  const values: Record<string, TensorType> = {};
  for (const n of nodes) for (const o of n.outputs) values[o] = graph.values[o]!;
  const sub: Graph = {
    name: cut.name,
    inputs,
    params: graph.params.filter((p) => usedParams.has(p.name)),
    nodes,
    values,
    outputs,
    meta: { ...structuredClone(graph.meta), cutFrom: graph.name },
  };
  verify(sub);
  return sub;
}

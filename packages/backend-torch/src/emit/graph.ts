/**
 * Lowers a run of graph nodes to Python assignments, one per node, through the lowering table; and
 * finds the branches (`a/...`, `b/...`) that apply one module twice, so the generated module writes
 * them once as a method (`embed`) called per branch, as a hand-written Siamese network would.
 */
import { type Graph, type Node, opSpec, type TensorType } from '@siamese/core';
import type { EmitContext } from './context.js';
import { LOWERINGS } from './lowering.js';
import { variable } from './python.js';

/** Python variable names, unique within one function. */
export class Names {
  private readonly taken = new Set<string>(['self', 'torch', 'nn', 'F', 'init', 'math']);
  readonly of = new Map<string, string>();

  /** Binds IR value `value` to a fresh variable derived from `hint`. */
  bind(value: string, hint: string): string {
    const base = variable(hint);
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    this.of.set(value, name);
    return name;
  }

  get(value: string): string | undefined {
    return this.of.get(value);
  }
}

export function typeOf(graph: Graph, value: string): TensorType | undefined {
  return (
    graph.values[value] ??
    graph.params.find((p) => p.name === value) ??
    graph.inputs.find((v) => v.name === value)
  );
}

/** One node as `var = expression`; `hint` names the output's variable. */
export function emitNode(ctx: EmitContext, graph: Graph, node: Node, names: Names, hint: string): string {
  const lowering = LOWERINGS[node.op as keyof typeof LOWERINGS];
  if (!lowering) throw new Error(`node '${node.name}': unknown op '${node.op}'`);
  if (typeof lowering !== 'function') {
    throw new Error(`node '${node.name}' (${node.op}) has no PyTorch form: ${lowering.notEmitted}`);
  }
  const attrs = opSpec(node.op as keyof typeof LOWERINGS).attrs(node.attrs);
  const input = (i: number): string => {
    const v = node.inputs[i];
    if (!v) return 'None';
    if (ctx.paramOf(v)) return ctx.param(v);
    const name = names.get(v);
    if (name === undefined) throw new Error(`node '${node.name}': input '${v}' is not defined before it`);
    return name;
  };
  const expr = (lowering as (a: unknown) => string)({
    ctx,
    node,
    input,
    inputTypes: node.inputs.map((v) => (v ? typeOf(graph, v) : undefined)),
    outputTypes: node.outputs.map((v) => graph.values[v]!),
    attrs,
  });
  return `${names.bind(node.outputs[0]!, hint)} = ${expr}`;
}

export interface Branch {
  readonly tag: string;
  readonly nodes: readonly Node[];
  /** Values read from outside the branch, in first-use order. */
  readonly externals: readonly string[];
  /** Values the rest of the graph reads, in definition order. */
  readonly results: readonly string[];
}

function branchOf(node: Node): string | undefined {
  const i = node.name.indexOf('/');
  return i > 0 ? node.name.slice(0, i) : undefined;
}

function describe(graph: Graph, tag: string, nodes: readonly Node[]): Branch {
  const defined = new Set(nodes.flatMap((n) => n.outputs));
  const params = new Set(graph.params.map((p) => p.name));
  const externals: string[] = [];
  for (const n of nodes) {
    for (const v of n.inputs)
      if (v && !defined.has(v) && !params.has(v) && !externals.includes(v)) externals.push(v);
  }
  const outside = new Set([
    ...graph.nodes.filter((n) => branchOf(n) !== tag).flatMap((n) => n.inputs),
    ...graph.outputs.map((o) => o.value),
  ]);
  const results = nodes.flatMap((n) => n.outputs).filter((v) => outside.has(v));
  return { tag, nodes, externals, results };
}

/** Whether branch `b` is branch `a` applied to other inputs: same ops, attrs and parameters, node for node. */
function sameShape(a: Branch, b: Branch): boolean {
  if (a.nodes.length !== b.nodes.length || a.externals.length !== b.externals.length) return false;
  if (a.results.length !== b.results.length) return false;
  const map = new Map<string, string>(a.externals.map((v, i) => [v, b.externals[i]!]));
  for (let i = 0; i < a.nodes.length; i++) {
    const [x, y] = [a.nodes[i]!, b.nodes[i]!];
    if (x.op !== y.op || JSON.stringify(x.attrs) !== JSON.stringify(y.attrs)) return false;
    if (x.inputs.length !== y.inputs.length || x.outputs.length !== y.outputs.length) return false;
    for (let j = 0; j < x.inputs.length; j++)
      if ((map.get(x.inputs[j]!) ?? x.inputs[j]) !== y.inputs[j]) return false;
    x.outputs.forEach((o, j) => {
      map.set(o, y.outputs[j]!);
    });
  }
  return a.results.every((v, i) => map.get(v) === b.results[i]);
}

/** The graph's branches when there are two or more and all apply the same module; else undefined. */
export function sharedBranches(graph: Graph): Branch[] | undefined {
  const byTag = new Map<string, Node[]>();
  for (const n of graph.nodes) {
    const tag = branchOf(n);
    if (tag === undefined) continue;
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag)!.push(n);
  }
  if (byTag.size < 2) return undefined;
  const branches = [...byTag].map(([tag, nodes]) => describe(graph, tag, nodes));
  const [first, ...rest] = branches;
  return rest.every((b) => sameShape(first!, b)) ? branches : undefined;
}

/**
 * Reverse-mode autodiff on the IR: `grad` appends to a graph the nodes that compute the gradient of a
 * scalar output with respect to parameters, one VJP rule per node, visited in reverse order.
 */
import { GraphBuilder } from '../ir/builder.js';
import { formatType } from '../ir/shape.js';
import type { Graph, Value } from '../ir/types.js';
import { type OpName, opSpec } from '../ops/table.js';
import { AutodiffError } from './rule.js';
import { NO_RULE_REASON, VJP } from './rules.js';
import { stepNames } from './step-names.js';

export interface GradOptions {
  /** The scalar output to differentiate. Default 'loss'. */
  readonly loss?: string;
  /** Parameter names; default every trainable parameter. */
  readonly wrt?: readonly string[];
}

export interface GradResult {
  /** The input graph plus the backward nodes and one output `grad:<param>` per parameter. */
  readonly graph: Graph;
  /** Output name of each parameter's gradient. */
  readonly gradients: ReadonlyMap<string, string>;
}

export function grad(graph: Graph, o: GradOptions = {}): GradResult {
  const b = GraphBuilder.from(graph);
  const gradients = gradInto(b, graph, o);
  const names = new Map<string, string>();
  const wrt = o.wrt ?? graph.params.filter((p) => p.trainable).map((p) => p.name);
  for (const param of wrt) {
    // A parameter the loss does not reach gets an explicit zero gradient.
    const v = gradients.get(param) ?? b.op('scale', [b.value(param)], { alpha: 0 }, `grad/${param}.zero`);
    names.set(param, stepNames.grad(param));
    b.output(stepNames.grad(param), v);
  }
  return { graph: b.build(), gradients: names };
}

/**
 * Adds the backward nodes to `b` (which must hold `graph`) and returns each parameter's gradient
 * value; a parameter the loss does not depend on is absent.
 */
export function gradInto(b: GraphBuilder, graph: Graph, o: GradOptions = {}): Map<string, Value> {
  const lossName = o.loss ?? 'loss';
  const out = graph.outputs.find((x) => x.name === lossName);
  if (!out) throw new AutodiffError(`grad: graph '${graph.name}' has no output '${lossName}'`);
  const lossValue = b.value(out.value);
  if (lossValue.shape.length !== 0)
    throw new AutodiffError(`grad: output '${lossName}' must be a scalar, got ${formatType(lossValue)}`);
  const wrt = o.wrt ?? graph.params.filter((p) => p.trainable).map((p) => p.name);
  for (const w of wrt) {
    if (!graph.params.some((p) => p.name === w))
      throw new AutodiffError(`grad: '${w}' is not a parameter of graph '${graph.name}'`);
  }

  // Forward reach from the parameters, backward reach from the loss: only nodes on both paths matter.
  // Dependence flows through every op, with or without a rule: a parameter reached only through an
  // op that has none is an error below, never a silent zero gradient.
  const varies = new Set<string>(wrt);
  for (const n of graph.nodes) {
    if (n.inputs.some((i) => varies.has(i))) for (const v of n.outputs) varies.add(v);
  }
  const useful = new Set<string>([out.value]);
  for (const n of [...graph.nodes].reverse()) {
    if (n.outputs.some((v) => useful.has(v))) for (const i of n.inputs) if (i) useful.add(i);
  }

  const grads = new Map<string, Value>();
  const accumulate = (name: string, g: Value): void => {
    const prev = grads.get(name);
    grads.set(name, prev ? b.op('add', [prev, g], {}, `${name}.acc`) : g);
  };
  b.branch('grad', () => {
    grads.set(out.value, b.op('scale', [lossValue], { alpha: 0, beta: 1 }, `${lossName}.seed`));
    for (const node of [...graph.nodes].reverse()) {
      const dys = node.outputs.map((v) => grads.get(v));
      if (dys.every((d) => !d)) continue;
      const needs = node.inputs.map((i) => i !== '' && varies.has(i) && useful.has(i));
      if (!needs.some(Boolean)) continue;
      const op = node.op as OpName;
      const rule = VJP[op];
      if (!rule) {
        const why = NO_RULE_REASON[op] ?? 'it has no gradient rule';
        throw new AutodiffError(`grad: cannot differentiate node '${node.name}' (${op}): ${why}`);
      }
      const attrs = opSpec(op).attrs(node.attrs);
      const inputs = node.inputs.map((i) => (i ? b.value(i) : undefined));
      const outputs = node.outputs.map((v) => b.value(v));
      const din = b.branch(node.name, () =>
        (rule as (a: unknown) => (Value | undefined)[])({ b, node, attrs, inputs, outputs, dys, needs }),
      );
      node.inputs.forEach((i, k) => {
        const g = din[k];
        if (needs[k] && g) accumulate(i, g);
      });
    }
  });

  const result = new Map<string, Value>();
  for (const w of wrt) {
    const g = grads.get(w);
    if (g) result.set(w, g);
  }
  return result;
}

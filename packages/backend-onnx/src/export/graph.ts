/**
 * Lowers a whole core graph into a context through the lowering table. Several graphs can be lowered
 * into one context (the pair cut joins the encoder and head this way), wired by their input names.
 */
import {
  type Graph,
  GraphError,
  isOpName,
  type Node,
  type OpAttrs,
  type OpName,
  opSpec,
  type Tensor,
  type TensorType,
} from '@siamese/core';
import type { LoweringContext } from './context.js';
import { LOWERINGS } from './lowering.js';
import type { Lowering, LoweringArgs } from './types.js';

export interface GraphBinding {
  /** ONNX names (already claimed) for the graph's inputs; by default each input claims its own name. */
  readonly inputs?: ReadonlyMap<string, string>;
  /** ONNX names for the graph's outputs, by public name; by default the public name itself. */
  readonly outputs?: ReadonlyMap<string, string>;
  /**
   * Parameters and buffers become graph inputs under their own names instead of initializers
   * (training: they change every step). `weights` is then not read.
   */
  readonly paramsAsInputs?: boolean;
}

/** Returns the ONNX name of each graph output, by public name. `weights` must hold every param. */
export function lowerGraph(
  ctx: LoweringContext,
  graph: Graph,
  weights: ReadonlyMap<string, Tensor>,
  binding: GraphBinding = {},
): Map<string, string> {
  const names = new Map<string, string>();
  const types = new Map<string, TensorType>(Object.entries(graph.values));
  for (const i of graph.inputs) {
    names.set(i.name, binding.inputs?.get(i.name) ?? ctx.reserve(i.name));
    types.set(i.name, i);
  }
  for (const p of graph.params) {
    if (binding.paramsAsInputs) {
      names.set(p.name, ctx.reserve(p.name));
      types.set(p.name, p);
      continue;
    }
    const t = weights.get(p.name);
    if (!t) throw new GraphError(`export: no weight for ${p.kind} '${p.name}' of graph '${graph.name}'`);
    names.set(p.name, ctx.weight(p.name, t));
    types.set(p.name, p);
  }

  // A node whose output is a graph output writes it under the public name directly (no Identity).
  const produced = new Set(graph.nodes.flatMap((n) => n.outputs));
  const targets = new Map(graph.outputs.map((o) => [o.name, binding.outputs?.get(o.name) ?? o.name]));
  const direct = new Map<string, string>();
  for (const o of graph.outputs) {
    if (produced.has(o.value) && !direct.has(o.value)) direct.set(o.value, ctx.reserve(targets.get(o.name)!));
  }

  for (const node of graph.nodes) {
    const outputs = node.outputs.map((v) => {
      const name = direct.get(v) ?? ctx.fresh(v);
      names.set(v, name);
      return name;
    });
    lowerNode(ctx, node, outputs, names, types);
  }

  const result = new Map<string, string>();
  for (const o of graph.outputs) {
    const target = targets.get(o.name)!;
    const source = names.get(o.value)!;
    if (source !== target) ctx.op('Identity', [source], [], ctx.reserve(target));
    result.set(o.name, target);
  }
  return result;
}

function lowerNode(
  ctx: LoweringContext,
  node: Node,
  outputs: readonly string[],
  names: ReadonlyMap<string, string>,
  types: ReadonlyMap<string, TensorType>,
): void {
  const op = node.op;
  if (!isOpName(op)) throw new GraphError(`export: node '${node.name}' has unknown op '${op}'`);
  const inputs = node.inputs.map((v) => (v ? names.get(v)! : ''));
  const before = ctx.nodes.length;
  ctx.within(node.name, `${node.name} (${op})`, () =>
    run(op, {
      ctx,
      node,
      inputs,
      inputTypes: node.inputs.map((v) => (v ? types.get(v) : undefined)),
      outputs,
      outputTypes: node.outputs.map((v) => types.get(v)!),
    }),
  );
  const written = new Set(ctx.nodes.slice(before).flatMap((n) => n.output));
  const missing = outputs.filter((o) => !written.has(o));
  if (missing.length > 0) {
    throw new GraphError(`export: the ${op} lowering did not write '${missing.join("', '")}'`, node.name);
  }
}

/** Dispatches on the op with its attributes re-validated, so each lowering sees its own attrs type. */
function run<K extends OpName>(op: K, args: Omit<LoweringArgs<OpAttrs[K]>, 'attrs'>): void {
  const lowering: Lowering<OpAttrs[K]> = LOWERINGS[op];
  lowering({ ...args, attrs: opSpec(op).attrs(args.node.attrs) });
}

/**
 * Compiles a core Graph into a function over tf tensors, in train or eval mode. Only the nodes the
 * requested outputs need are kept. Rank-4 graph inputs become NHWC once, outputs return to the IR
 * layout once; parameters arrive already in their tfjs layout (see `Val`).
 */

import {
  formatShape,
  type Graph,
  isBatchCounter,
  isOpName,
  type Node,
  type OpAttrs,
  type OpName,
  opSpec,
} from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LowerContext, Mode } from './context.js';
import { LOWERINGS } from './table.js';
import { ir, NCHW_TO_NHWC, nhwc, toIR, type Val } from './value.js';

export interface CompileOptions {
  readonly mode: Mode;
  /** Public output names to compute; default all. */
  readonly outputs?: readonly string[];
  /**
   * Outputs returned as they are stored (`RunResult.stored`, e.g. a conv weight's next value still
   * HWIO) rather than in the IR layout: state a training step feeds back needs no transposes.
   */
  readonly keepLayout?: readonly string[];
}

export interface RunResult {
  /** By public output name, in the IR layout. */
  readonly outputs: Record<string, tf.Tensor>;
  /** The `keepLayout` outputs, in their stored layout. */
  readonly stored: Record<string, Val>;
  /** New values of buffers updated in train mode (running statistics), by parameter name. */
  readonly buffers: Map<string, tf.Tensor>;
  /** How much each int64 counter (num_batches_tracked) advanced. */
  readonly counts: Map<string, number>;
}

export interface CompiledGraph {
  readonly mode: Mode;
  readonly outputs: readonly string[];
  /** Graph inputs the outputs depend on. */
  readonly inputs: readonly string[];
  run(feeds: Readonly<Record<string, tf.Tensor>>, params: ReadonlyMap<string, Val>): RunResult;
}

type Step = (inputs: readonly (Val | undefined)[], ctx: LowerContext) => Val[];

function bind<K extends OpName>(op: K, node: Node): Step {
  let attrs: OpAttrs[K];
  try {
    attrs = opSpec(op).attrs(node.attrs);
  } catch (e) {
    throw new Error(`node '${node.name}' (${op}): ${(e as Error).message}`);
  }
  const lower = LOWERINGS[op];
  return (inputs, ctx) => lower(inputs, attrs, ctx);
}

/** Nodes needed for `values`, in graph order. */
function prune(graph: Graph, values: readonly string[]): Node[] {
  const needed = new Set(values);
  const kept: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i] as Node;
    if (!node.outputs.some((o) => needed.has(o))) continue;
    kept.push(node);
    for (const v of node.inputs) if (v) needed.add(v);
  }
  return kept.reverse();
}

export function compileGraph(graph: Graph, o: CompileOptions): CompiledGraph {
  const wanted = o.outputs ?? graph.outputs.map((x) => x.name);
  const outputs = wanted.map((name) => {
    const out = graph.outputs.find((x) => x.name === name);
    if (!out)
      throw new Error(
        `graph '${graph.name}' has no output '${name}' (has: ${graph.outputs.map((x) => x.name).join(', ')})`,
      );
    return out;
  });
  const nodes = prune(
    graph,
    outputs.map((x) => x.value),
  );
  const used = new Set(nodes.flatMap((n) => n.inputs).concat(outputs.map((x) => x.value)));
  const inputs = graph.inputs.filter((i) => used.has(i.name));
  const steps = nodes.map((node) => {
    if (!isOpName(node.op)) throw new Error(`node '${node.name}': op '${node.op}' is not in the op table`);
    return { node, step: bind(node.op, node) };
  });
  const keep = new Set(o.keepLayout ?? []);
  // int64 counters live on the host (tfjs has no int64); lowerings see only their names.
  const counters = new Set(graph.params.filter(isBatchCounter).map((p) => p.name));

  const run = (feeds: Readonly<Record<string, tf.Tensor>>, params: ReadonlyMap<string, Val>): RunResult => {
    const env = new Map<string, Val>();
    for (const input of inputs) {
      const t = feeds[input.name];
      if (t === undefined) throw new Error(`graph '${graph.name}' needs input '${input.name}'`);
      const fits =
        t.rank === input.shape.length &&
        input.shape.every((d, i) => typeof d !== 'number' || d === t.shape[i]);
      if (!fits)
        throw new Error(
          `input '${input.name}' has shape [${t.shape.join(',')}] but the graph expects ${formatShape(input.shape)}`,
        );
      env.set(input.name, t.rank === 4 ? nhwc(tf.transpose(t, NCHW_TO_NHWC)) : ir(t));
    }
    const buffers = new Map<string, tf.Tensor>();
    const counts = new Map<string, number>();
    const value = (name: string, where: string): Val => {
      const v = env.get(name) ?? params.get(name);
      if (v === undefined) throw new Error(`${where}: no value or parameter '${name}'`);
      return v;
    };
    for (const { node, step } of steps) {
      const ctx: LowerContext = {
        mode: o.mode,
        node,
        buffer: (name) => buffers.get(name) ?? toIR(value(name, `node '${node.name}'`)),
        setBuffer: (name, t) => void buffers.set(name, t),
        count: (name) => void counts.set(name, (counts.get(name) ?? 0) + 1),
      };
      const args = node.inputs.map((name) =>
        name && !counters.has(name) ? value(name, `node '${node.name}'`) : undefined,
      );
      let outs: Val[];
      try {
        outs = step(args, ctx);
      } catch (e) {
        throw new Error(`node '${node.name}' (${node.op}): ${(e as Error).message}`);
      }
      node.outputs.forEach((name, i) => {
        const v = outs[i];
        if (v === undefined) throw new Error(`node '${node.name}' produced no output ${i}`);
        env.set(name, v);
      });
    }
    const result: Record<string, tf.Tensor> = {};
    const stored: Record<string, Val> = {};
    for (const out of outputs) {
      const v = value(out.value, `output '${out.name}'`);
      if (keep.has(out.name)) stored[out.name] = v;
      else result[out.name] = toIR(v);
    }
    return { outputs: result, stored, buffers, counts };
  };
  return { mode: o.mode, outputs: wanted, inputs: inputs.map((i) => i.name), run };
}

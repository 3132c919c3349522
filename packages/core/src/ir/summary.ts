/** Parameter, buffer and FLOP counts of a graph for a given input size. */
import { isOpName, untypedSpec } from '../ops/table.js';
import { GraphError } from './errors.js';
import { staticSize } from './shape.js';
import type { Graph, TensorType } from './types.js';

export interface OpCost {
  readonly op: string;
  readonly nodes: number;
  readonly flops: number;
}

export interface Summary {
  /** Elements of trainable parameters (torch's sum of p.numel() over parameters()). */
  readonly parameters: number;
  /** Elements of frozen parameters. */
  readonly frozenParameters: number;
  /** Elements of buffers (BatchNorm running statistics and counters). */
  readonly buffers: number;
  /** Multiply-adds for the bindings given (torchvision's "GFLOPS" convention), by op and in total. */
  readonly flops: number;
  readonly byOp: readonly OpCost[];
  readonly bindings: Readonly<Record<string, number>>;
}

/** `bindings` sets symbolic dimensions (the batch `N` defaults to 1). */
export function summarize(graph: Graph, bindings: Readonly<Record<string, number>> = {}): Summary {
  const bind = { N: 1, ...bindings };
  let parameters = 0;
  let frozenParameters = 0;
  let buffers = 0;
  for (const p of graph.params) {
    const n = staticSize(p.shape);
    if (p.kind === 'buffer') buffers += n;
    else if (p.trainable) parameters += n;
    else frozenParameters += n;
  }
  const types = new Map<string, TensorType>();
  for (const v of graph.inputs) types.set(v.name, v);
  for (const p of graph.params) types.set(p.name, p);
  const byOp = new Map<string, { nodes: number; flops: number }>();
  let flops = 0;
  for (const n of graph.nodes) {
    if (!isOpName(n.op)) throw new GraphError(`node '${n.name}': unknown op '${n.op}'`, n.name);
    const spec = untypedSpec(n.op);
    const ins = n.inputs.map((i) => (i ? types.get(i) : undefined));
    const outs = n.outputs.map((o) => graph.values[o]!);
    const f = spec.flops(ins, outs, n.attrs, bind);
    flops += f;
    const e = byOp.get(n.op) ?? { nodes: 0, flops: 0 };
    e.nodes++;
    e.flops += f;
    byOp.set(n.op, e);
    for (const [i, o] of n.outputs.entries()) types.set(o, outs[i]!);
  }
  return {
    parameters,
    frozenParameters,
    buffers,
    flops,
    byOp: [...byOp].map(([op, e]) => ({ op, ...e })).sort((a, b) => b.flops - a.flops),
    bindings: bind,
  };
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(3)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(3)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(3)} K`;
  return String(n);
}

export function formatSummary(graph: Graph, s: Summary): string {
  const ins = graph.inputs.map(
    (v) =>
      `${v.name} [${v.shape.map((d) => (typeof d === 'string' ? `${d}=${s.bindings[d] ?? '?'}` : d)).join(',')}]`,
  );
  const lines = [
    `${graph.name}: ${graph.nodes.length} nodes, inputs ${ins.join(', ')}`,
    `  parameters  ${s.parameters.toLocaleString('en-US')}${s.frozenParameters ? ` (+${s.frozenParameters.toLocaleString('en-US')} frozen)` : ''}`,
    `  buffers     ${s.buffers.toLocaleString('en-US')}`,
    `  multiply-adds ${human(s.flops)} (torchvision GFLOPS convention)`,
    ...s.byOp
      .filter((o) => o.flops > 0)
      .map((o) => `    ${o.op.padEnd(18)} x${String(o.nodes).padEnd(4)} ${human(o.flops)}`),
  ];
  return lines.join('\n');
}

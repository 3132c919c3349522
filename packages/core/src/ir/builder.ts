/**
 * Graph builder with scoped names. `scope()` prefixes parameter and node names the way
 * torchvision's module tree names its state_dict (`layer1.0.conv1`); `branch()` prefixes node
 * names only, so one encoder applied twice shares its parameters but not its node names.
 */
import { type OpAttrs, type OpName, untypedSpec } from '../ops/table.js';
import { GraphError } from './errors.js';
import { inferNode } from './infer.js';
import { formatType, shapesEqual } from './shape.js';
import type {
  DType,
  Graph,
  GraphOutput,
  Initializer,
  Node,
  Param,
  Shape,
  TensorType,
  Value,
} from './types.js';
import { verify } from './verify.js';

/** Attributes as a caller writes them: any subset, pairs may be given as one number. */
export type AttrsInput<K extends OpName> = { readonly [P in keyof OpAttrs[K]]?: unknown };

export interface ParamOptions {
  readonly trainable?: boolean;
  readonly dtype?: DType;
}

export class GraphBuilder {
  private readonly inputs: Value[] = [];
  private readonly params: Param[] = [];
  private readonly nodes: Node[] = [];
  private readonly types = new Map<string, TensorType>();
  private readonly paramIndex = new Map<string, Param>();
  private readonly outputs: GraphOutput[] = [];
  private readonly meta: Record<string, unknown> = {};
  private readonly scopes: string[] = [];
  private readonly branches: string[] = [];
  private readonly counters = new Map<string, number>();

  constructor(readonly name: string) {}

  input(name: string, dtype: DType, shape: Shape): Value {
    this.claim(name);
    const v = { name, dtype, shape: [...shape] };
    this.inputs.push(v);
    this.types.set(name, v);
    return v;
  }

  /** Declares (or, when already declared with the same type, reuses) a trainable parameter. */
  param(local: string, shape: readonly number[], init: Initializer, opts: ParamOptions = {}): Value {
    return this.declare(local, shape, init, 'parameter', opts.trainable ?? true, opts.dtype ?? 'float32');
  }

  /** Declares (or reuses) a non-trainable buffer, e.g. BatchNorm running statistics. */
  buffer(local: string, shape: readonly number[], init: Initializer, dtype: DType = 'float32'): Value {
    return this.declare(local, shape, init, 'buffer', false, dtype);
  }

  /** Runs `fn` with `name` appended to the parameter and node scope. */
  scope<T>(name: string | number, fn: () => T): T {
    this.scopes.push(String(name));
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** Runs `fn` with node names prefixed by `tag/` while parameter names stay shared. */
  branch<T>(tag: string, fn: () => T): T {
    this.branches.push(tag);
    try {
      return fn();
    } finally {
      this.branches.pop();
    }
  }

  /**
   * Adds a node; `name` is local to the current scope (defaults to the op name; `''` names the node
   * after the scope itself). Names are made unique with a `_k` suffix.
   */
  op<K extends OpName>(
    op: K,
    inputs: readonly (Value | undefined)[],
    attrs: AttrsInput<K> = {},
    name?: string,
  ): Value {
    return this.opMulti(op, inputs, attrs, name)[0]!;
  }

  /**
   * Adds a node and returns all its outputs: the first is named after the node, the others
   * `node:output` with the op's output names (batchNormTrain's `mean`, `invStd`, ...).
   */
  opMulti<K extends OpName>(
    op: K,
    inputs: readonly (Value | undefined)[],
    attrs: AttrsInput<K> = {},
    name?: string,
  ): Value[] {
    const nodeName = this.nodeName(name ?? op);
    const node = {
      name: nodeName,
      op,
      inputs: inputs.map((v) => v?.name ?? ''),
      attrs: attrs as Record<string, unknown>,
    };
    const inferred = inferNode(node, (v) => this.types.get(v));
    const outNames = untypedSpec(op).outputs.map((o, i) => (i === 0 ? nodeName : `${nodeName}:${o}`));
    for (const n of outNames) this.claim(n);
    this.nodes.push({ ...node, attrs: inferred.attrs, outputs: outNames });
    return outNames.map((n, i) => {
      const t = inferred.outputs[i]!;
      this.types.set(n, t);
      return { name: n, ...t };
    });
  }

  /** A builder holding everything `graph` has (to extend it, e.g. with gradients); outputs and meta too. */
  static from(graph: Graph, name = graph.name): GraphBuilder {
    const b = new GraphBuilder(name);
    for (const v of graph.inputs) b.input(v.name, v.dtype, v.shape);
    for (const p of graph.params) {
      b.claim(p.name);
      b.params.push(p);
      b.paramIndex.set(p.name, p);
      b.types.set(p.name, p);
    }
    for (const n of graph.nodes) {
      for (const o of n.outputs) {
        b.claim(o);
        b.types.set(o, graph.values[o]!);
      }
      b.nodes.push(n);
    }
    for (const o of graph.outputs) b.outputs.push(o);
    Object.assign(b.meta, structuredClone(graph.meta));
    return b;
  }

  /** The type of a value defined so far. */
  typeOf(value: string): TensorType {
    const t = this.types.get(value);
    if (!t) throw new GraphError(`value '${value}' is not defined in graph '${this.name}'`);
    return t;
  }

  /** A value defined so far, by name. */
  value(name: string): Value {
    return { name, ...this.typeOf(name) };
  }

  /** Removes a declared output (a rewrite replacing it). */
  dropOutput(name: string): void {
    const i = this.outputs.findIndex((o) => o.name === name);
    if (i >= 0) this.outputs.splice(i, 1);
  }

  output(name: string, value: Value): void {
    if (this.outputs.some((o) => o.name === name)) throw new GraphError(`output '${name}' is declared twice`);
    this.outputs.push({ name, value: value.name });
  }

  setMeta(key: string, value: unknown): void {
    this.meta[key] = value;
  }

  /** Finishes the graph and verifies it. */
  build(): Graph {
    const values: Record<string, TensorType> = {};
    for (const n of this.nodes) for (const o of n.outputs) values[o] = this.types.get(o)!;
    const graph: Graph = {
      name: this.name,
      inputs: [...this.inputs],
      params: [...this.params],
      nodes: [...this.nodes],
      values,
      outputs: [...this.outputs],
      meta: structuredClone(this.meta),
    };
    verify(graph);
    return graph;
  }

  private declare(
    local: string,
    shape: readonly number[],
    init: Initializer,
    kind: Param['kind'],
    trainable: boolean,
    dtype: DType,
  ): Value {
    const name = [...this.scopes, local].join('.');
    const existing = this.paramIndex.get(name);
    if (existing) {
      // Shared weights: a second application of the same module reuses its parameters.
      if (!shapesEqual(existing.shape, shape) || existing.dtype !== dtype || existing.kind !== kind) {
        throw new GraphError(
          `${kind} '${name}' is declared again as ${formatType({ dtype, shape })}, but it is ${existing.kind} ${formatType(existing)}`,
        );
      }
      return existing;
    }
    this.claim(name);
    const p: Param = { name, dtype, shape: [...shape], kind, trainable, init };
    this.params.push(p);
    this.paramIndex.set(name, p);
    this.types.set(name, p);
    return p;
  }

  private nodeName(local: string): string {
    // An empty local name names the node after its scope (a module's single node, e.g. `layer1.0.conv1`).
    const scoped = [...this.scopes, local].filter(Boolean).join('.') || 'node';
    const base = this.branches.length ? `${this.branches.join('/')}/${scoped}` : scoped;
    if (!this.types.has(base)) return base;
    let i = this.counters.get(base) ?? 1;
    while (this.types.has(`${base}_${i}`)) i++;
    this.counters.set(base, i + 1);
    return `${base}_${i}`;
  }

  private claim(name: string): void {
    if (!name) throw new GraphError('value names must not be empty');
    if (this.types.has(name)) throw new GraphError(`name '${name}' is already used in graph '${this.name}'`);
  }
}

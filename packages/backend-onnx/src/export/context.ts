/**
 * The lowering context: collects ONNX nodes and initializers while core nodes are lowered, hands out
 * unique value and node names, and caches small constants so each appears once per model.
 */
import { create } from '@bufbuild/protobuf';
import type { Tensor } from '@siamese/core';
import {
  type AttributeProto,
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  type TensorProto,
} from '../proto/onnx_pb.js';
import { tensorProto } from './tensor.js';

/** Typed ONNX attribute builders. Integers are checked: ONNX stores them as int64. */
export const attr = {
  int(name: string, value: number): AttributeProto {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.INT,
      i: toInt64(name, value),
    });
  },
  float(name: string, value: number): AttributeProto {
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value });
  },
  ints(name: string, values: readonly number[]): AttributeProto {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.INTS,
      ints: values.map((v) => toInt64(name, v)),
    });
  },
  floats(name: string, values: readonly number[]): AttributeProto {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.FLOATS,
      floats: [...values],
    });
  },
  string(name: string, value: string): AttributeProto {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.STRING,
      s: new TextEncoder().encode(value),
    });
  },
} as const;

function toInt64(name: string, v: number): bigint {
  if (!Number.isSafeInteger(v)) throw new Error(`ONNX attribute '${name}' must be an integer, got ${v}`);
  return BigInt(v);
}

export class LoweringContext {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly values = new Set<string>();
  private readonly nodeNames = new Set<string>();
  /** Host data of every initializer added or pending, so lowerings can read constants (e.g. transpose a weight). */
  private readonly data = new Map<string, Tensor>();
  /** Weights bound to names but only written out if a node reads them (`finish`). */
  private readonly pending = new Set<string>();
  private readonly constants = new Map<string, string>();
  /** The core node being lowered: prefixes ONNX node names and becomes their doc string. */
  private scope = '';
  private scopeDoc = '';

  /** Claims `name` exactly; throws if it is taken (graph inputs and outputs must keep their names). */
  reserve(name: string): string {
    if (!name) throw new Error('ONNX value names must not be empty');
    if (this.values.has(name)) throw new Error(`ONNX value name '${name}' is used twice`);
    this.values.add(name);
    return name;
  }

  /** `hint` itself when free, else `hint_1`, `hint_2`, ... */
  fresh(hint: string): string {
    const base = hint || 'v';
    let name = base;
    for (let i = 1; this.values.has(name); i++) name = `${base}_${i}`;
    return this.reserve(name);
  }

  /** Runs `fn` with node names prefixed by the core node's name. */
  within<T>(scope: string, doc: string, fn: () => T): T {
    const [s, d] = [this.scope, this.scopeDoc];
    [this.scope, this.scopeDoc] = [scope, doc];
    try {
      return fn();
    } finally {
      [this.scope, this.scopeDoc] = [s, d];
    }
  }

  /** Emits a node with one output (named `output`, or fresh) and returns the output's name. */
  op(
    opType: string,
    inputs: readonly string[],
    attrs: readonly AttributeProto[] = [],
    output?: string,
  ): string {
    const out = output ?? this.fresh(`${this.scope || opType}/${opType}`);
    this.node(opType, inputs, [out], attrs);
    return out;
  }

  /** Emits a node with the given (already reserved) output names. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: readonly AttributeProto[] = [],
  ): void {
    const base = this.scope ? `${this.scope}/${opType}` : opType;
    let name = base;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${base}_${i}`;
    this.nodeNames.add(name);
    this.nodes.push(
      create(NodeProtoSchema, {
        name,
        opType,
        input: [...inputs],
        output: [...outputs],
        attribute: [...attrs],
        docString: this.scopeDoc,
      }),
    );
  }

  /**
   * Binds a weight to a value name (`name` itself unless taken) and returns that name. It becomes an
   * initializer only if a node reads it, so buffers inference never touches (BatchNorm's int64
   * counters, weights folded away) stay out of the model. Binding the same tensor again is a no-op.
   */
  weight(name: string, t: Tensor): string {
    if (this.pending.has(name) && this.data.get(name) === t) return name;
    const onnxName = this.values.has(name) ? this.fresh(name) : this.reserve(name);
    this.data.set(onnxName, t);
    this.pending.add(onnxName);
    return onnxName;
  }

  /** A new initializer under a fresh name derived from `hint`. */
  constant(hint: string, t: Tensor): string {
    const name = this.fresh(hint);
    this.data.set(name, t);
    this.initializers.push(tensorProto(name, t));
    return name;
  }

  /** A float32 scalar constant, shared by every node that needs the same value. */
  scalar(value: number): string {
    return this.cached(`f32:${value}`, () =>
      this.constant(`const/${value}`, { dtype: 'float32', shape: [], data: Float32Array.of(value) }),
    );
  }

  /** A 1-D int64 constant (axes, shapes), shared like `scalar`. */
  int64s(values: readonly number[]): string {
    return this.cached(`i64:${values.join(',')}`, () =>
      this.constant(`const/[${values.join(',')}]`, {
        dtype: 'int64',
        shape: [values.length],
        data: BigInt64Array.from(values, (v) => BigInt(v)),
      }),
    );
  }

  /** Host data behind a value, when it is a weight or constant; undefined for computed values. */
  tensorOf(name: string): Tensor | undefined {
    return this.data.get(name);
  }

  /** Writes out the bound weights that a node or a graph output reads, in binding order. */
  finish(outputs: readonly string[]): void {
    const read = new Set<string>(outputs);
    for (const n of this.nodes) for (const i of n.input) read.add(i);
    for (const name of this.pending) {
      if (read.has(name)) this.initializers.push(tensorProto(name, this.data.get(name)!));
    }
    this.pending.clear();
  }

  /** `make()` the first time `key` is asked for, the same value after (e.g. one weight transform per step). */
  once(key: string, make: () => string): string {
    return this.cached(`once:${key}`, make);
  }

  private cached(key: string, make: () => string): string {
    let name = this.constants.get(key);
    if (name === undefined) {
      name = make();
      this.constants.set(key, name);
    }
    return name;
  }
}

/**
 * The training state as tf.Variables in their tfjs layout (conv weights and their optimizer slots
 * HWIO), int64 counters as host bigints. Reading and writing go through the IR's (torchvision's)
 * names and layouts.
 */

import { type Graph, isBatchCounter, type Param, type Tensor, weightsForGraph } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import { HWIO_TO_OIHW, type Layout, OIHW_TO_HWIO, toIR, type Val } from '../lower/value.js';

let instances = 0;

/** Parameters read as a conv2d weight are kept HWIO. */
function convWeights(graph: Graph): Set<string> {
  return new Set(graph.nodes.filter((n) => n.op === 'conv2d').map((n) => n.inputs[1] ?? ''));
}

export class ParamStore {
  /** Parameters, buffers and optimizer slots, by state name. */
  readonly variables = new Map<string, tf.Variable>();
  readonly layouts = new Map<string, Layout>();
  readonly counters = new Map<string, bigint>();
  /** Trainable parameters in declaration order. */
  readonly trainable: readonly Param[];
  private readonly vals = new Map<string, Val>();
  private readonly prefix = `siamese${++instances}/`;

  constructor(
    readonly graph: Graph,
    weights: ReadonlyMap<string, Tensor>,
  ) {
    this.trainable = graph.params.filter((p) => p.trainable);
    const conv = convWeights(graph);
    const w = weightsForGraph(graph, weights);
    for (const p of graph.params) {
      const t = w.get(p.name) as Tensor;
      if (isBatchCounter(p)) {
        this.counters.set(p.name, (t.data as BigInt64Array)[0] ?? 0n);
        continue;
      }
      if (p.dtype !== 'float32')
        throw new Error(`parameter '${p.name}' is ${p.dtype}; tfjs trains float32 only`);
      this.add(p.name, conv.has(p.name) ? 'hwio' : 'ir', () =>
        this.toTf(t, conv.has(p.name) ? 'hwio' : 'ir'),
      );
    }
  }

  private add(name: string, layout: Layout, make: () => tf.Tensor): void {
    const v = tf.tidy(() => tf.variable(make(), false, this.prefix + name));
    this.variables.set(name, v);
    this.layouts.set(name, layout);
    this.vals.set(name, { t: v, layout });
  }

  /** Adds a zero state value (an optimizer slot) shaped and laid out like `like`. */
  addLike(name: string, like: string): void {
    if (this.variables.has(name)) return;
    this.add(name, this.layoutOf(like), () => tf.zerosLike(this.variable(like)));
  }

  /** Values for the compiled graph, by state name. */
  values(): ReadonlyMap<string, Val> {
    return this.vals;
  }

  variable(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`no parameter '${name}'`);
    return v;
  }

  layoutOf(name: string): Layout {
    return this.layouts.get(name) ?? 'ir';
  }

  /** A host tensor in the IR layout as a tf tensor in `layout`. */
  toTf(t: Tensor, layout: Layout): tf.Tensor {
    const x = tf.tensor(t.data as Float32Array, [...t.shape], 'float32');
    return layout === 'hwio' ? tf.transpose(x, OIHW_TO_HWIO) : x;
  }

  /** A tf tensor in `layout` as a host tensor in the IR layout. */
  async toHost(t: tf.Tensor, layout: Layout): Promise<Tensor<'float32'>> {
    const x = layout === 'hwio' ? tf.transpose(t, HWIO_TO_OIHW) : t;
    const data = (await x.data()) as Float32Array;
    if (x !== t) x.dispose();
    return { dtype: 'float32', shape: [...x.shape], data: Float32Array.from(data) };
  }

  /** A state value as a host tensor in the IR layout. */
  readHost(name: string): Promise<Tensor<'float32'>> {
    return this.toHost(this.variable(name), this.layoutOf(name));
  }

  /** Replaces a state value from a host tensor in the IR layout. */
  writeHost(name: string, t: Tensor): void {
    this.assign(
      name,
      tf.tidy(() => this.toTf(t, this.layoutOf(name))),
    );
  }

  /** Every parameter and buffer of the graph (not the slots), as host tensors. */
  async read(): Promise<Map<string, Tensor>> {
    const out = new Map<string, Tensor>();
    for (const p of this.graph.params) {
      const c = this.counters.get(p.name);
      if (c !== undefined) out.set(p.name, { dtype: 'int64', shape: [], data: BigInt64Array.of(c) });
      else out.set(p.name, await this.readHost(p.name));
    }
    return out;
  }

  write(weights: ReadonlyMap<string, Tensor>): void {
    const w = weightsForGraph(this.graph, weights);
    for (const p of this.graph.params) {
      const t = w.get(p.name) as Tensor;
      if (this.counters.has(p.name)) this.counters.set(p.name, (t.data as BigInt64Array)[0] ?? 0n);
      else this.writeHost(p.name, t);
    }
  }

  /** Replaces a variable's value and disposes `value`. */
  assign(name: string, value: tf.Tensor): void {
    const v = this.variable(name);
    if (value === v) return;
    v.assign(value);
    value.dispose();
  }

  /** Replaces a state value with a computed one in any layout, moving it to the stored layout. */
  assignVal(name: string, v: Val): void {
    const want = this.layoutOf(name);
    if (v.layout === want) {
      this.assign(name, v.t);
      return;
    }
    const moved = tf.tidy(() => {
      const t = toIR(v);
      return want === 'hwio' ? tf.transpose(t, OIHW_TO_HWIO) : t;
    });
    v.t.dispose();
    this.assign(name, moved);
  }

  advance(counts: ReadonlyMap<string, number>): void {
    for (const [name, n] of counts) this.counters.set(name, (this.counters.get(name) ?? 0n) + BigInt(n));
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
    this.vals.clear();
  }
}

/**
 * Parameters and buffers as tf.Variables in their tfjs layout (conv weights HWIO), int64 counters
 * as host bigints. Reading and writing go through the IR's (torchvision's) names and layouts.
 */

import { type Graph, isBatchCounter, type Param, type Tensor, weightsForGraph } from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import { HWIO_TO_OIHW, type Layout, OIHW_TO_HWIO, type Val } from '../lower/value.js';

let instances = 0;

/** Parameters read as a conv2d weight are kept HWIO. */
function convWeights(graph: Graph): Set<string> {
  return new Set(graph.nodes.filter((n) => n.op === 'conv2d').map((n) => n.inputs[1] ?? ''));
}

export class ParamStore {
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
      const layout: Layout = conv.has(p.name) ? 'hwio' : 'ir';
      this.layouts.set(p.name, layout);
      const v = tf.tidy(() => tf.variable(this.toTf(t, layout), p.trainable, this.prefix + p.name));
      this.variables.set(p.name, v);
      this.vals.set(p.name, { t: v, layout });
    }
  }

  /** Values for the compiled graph, by parameter name. */
  values(): ReadonlyMap<string, Val> {
    return this.vals;
  }

  variable(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`no parameter '${name}'`);
    return v;
  }

  /** Parameter name of a variable (tf.variableGrads keys its result by variable name). */
  nameOf(variableName: string): string {
    return variableName.slice(this.prefix.length);
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

  async read(): Promise<Map<string, Tensor>> {
    const out = new Map<string, Tensor>();
    for (const p of this.graph.params) {
      const c = this.counters.get(p.name);
      if (c !== undefined) out.set(p.name, { dtype: 'int64', shape: [], data: BigInt64Array.of(c) });
      else out.set(p.name, await this.toHost(this.variable(p.name), this.layouts.get(p.name) ?? 'ir'));
    }
    return out;
  }

  write(weights: ReadonlyMap<string, Tensor>): void {
    const w = weightsForGraph(this.graph, weights);
    for (const p of this.graph.params) {
      const t = w.get(p.name) as Tensor;
      if (this.counters.has(p.name)) this.counters.set(p.name, (t.data as BigInt64Array)[0] ?? 0n);
      else
        this.assign(
          p.name,
          tf.tidy(() => this.toTf(t, this.layouts.get(p.name) ?? 'ir')),
        );
    }
  }

  /** Replaces a variable's value and disposes `value`. */
  assign(name: string, value: tf.Tensor): void {
    this.variable(name).assign(value);
    value.dispose();
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

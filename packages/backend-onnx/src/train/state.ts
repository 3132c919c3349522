/**
 * The training state in host arrays: every parameter, running statistic and optimizer slot, fed to
 * each step as graph inputs. The step writes the next state into a second set of arrays (allocating
 * ~3x the parameters' size every step cost a quarter of a ResNet-18 step), which then become the
 * state; the old arrays are written by the step after. int64 BatchNorm counters are kept here too.
 */
import { type Graph, type OptimizerSlot, type Tensor, weightsForGraph } from '@siamese/core';
import type { Tensor as OrtTensor } from 'onnxruntime-node';

type Ort = typeof import('onnxruntime-node');

export class HostState {
  private readonly values = new Map<string, Tensor>();
  /** The other half of each updated value's double buffer. */
  private readonly spare = new Map<string, Float32Array>();

  constructor(
    private readonly graph: Graph,
    weights: ReadonlyMap<string, Tensor>,
    slots: readonly OptimizerSlot[],
  ) {
    this.write(weights);
    for (const s of slots) this.values.set(s.name, zerosLike(this.get(s.param)));
  }

  get(name: string): Tensor {
    const t = this.values.get(name);
    if (!t) throw new Error(`no state value '${name}'`);
    return t;
  }

  /** A copy of a value (the arrays are written in place by later steps). */
  read(name: string): Tensor {
    return copy(this.get(name));
  }

  /** Every parameter and buffer of the graph, as copies. */
  readWeights(): Map<string, Tensor> {
    return new Map(this.graph.params.map((p) => [p.name, this.read(p.name)]));
  }

  write(weights: ReadonlyMap<string, Tensor>): void {
    for (const [k, v] of weightsForGraph(this.graph, weights)) this.values.set(k, copy(v));
  }

  set(name: string, t: Tensor): void {
    this.values.set(name, copy(t));
  }

  feed(ort: Ort, name: string): OrtTensor {
    const t = this.get(name);
    return new ort.Tensor(t.dtype === 'int64' ? 'int64' : 'float32', t.data as Float32Array, [...t.shape]);
  }

  /** Output tensors over the spare arrays, one per updated value, keyed by the step's output name. */
  fetches(ort: Ort, updates: ReadonlyMap<string, string>): Record<string, OrtTensor> {
    const out: Record<string, OrtTensor> = {};
    for (const [name, output] of updates) {
      const current = this.get(name);
      let next = this.spare.get(name);
      if (next?.length !== current.data.length) next = new Float32Array(current.data.length);
      this.spare.set(name, next);
      out[output] = new ort.Tensor('float32', next, [...current.shape]);
    }
    return out;
  }

  /** After a step: the spare arrays (now holding the next state) become the state. */
  swap(updates: ReadonlyMap<string, string>): void {
    for (const name of updates.keys()) {
      const current = this.get(name);
      this.values.set(name, { dtype: 'float32', shape: current.shape, data: this.spare.get(name)! });
      this.spare.set(name, current.data as Float32Array);
    }
  }

  /** Adds each counter's increment (BatchNorm's num_batches_tracked). */
  advance(counters: ReadonlyMap<string, number>): void {
    for (const [name, by] of counters) {
      const c = this.values.get(name);
      if (c?.dtype === 'int64')
        this.values.set(name, { ...c, data: BigInt64Array.of((c.data as BigInt64Array)[0]! + BigInt(by)) });
    }
  }
}

function zerosLike(t: Tensor): Tensor {
  return { dtype: 'float32', shape: [...t.shape], data: new Float32Array(t.data.length) };
}

function copy(t: Tensor): Tensor {
  return { ...t, shape: [...t.shape], data: t.data.slice() } as Tensor;
}

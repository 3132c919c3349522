/**
 * The tfjs TrainingBackend: one compiled train-mode step (tf.variableGrads over the graph's loss),
 * BatchNorm statistics applied after the update, and an eval-mode forward for scores.
 */

import {
  type Batch,
  type EvalResult,
  type Graph,
  initWeights,
  type OptimizerState,
  type StepResult,
  type Tensor,
  type TrainingBackend,
} from '@siamese/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Device,
  type DeviceReport,
  describeDevice,
  type ResolveOptions,
  resolveDevice,
} from '../device.js';
import { type CompiledGraph, compileGraph } from '../lower/compile.js';
import type { Mode } from '../lower/context.js';
import { type ClipConfig, clipGradients } from './clip.js';
import { checkOptimizer, type OptimizerConfig, slotNames, update } from './optimizers.js';
import { ParamStore } from './params.js';
import { type ScoreKind, scoreKind } from './scores.js';

export interface TfjsBackendOptions {
  /** A training graph (`siameseTraining`): inputs x1, x2, labels (or triplets) and a scalar `loss`. */
  readonly graph: Graph;
  /** Initial weights under torchvision names; default `initWeights(graph, seed)`. */
  readonly weights?: ReadonlyMap<string, Tensor>;
  /** Seeds the initial weights (when not given) and dropout. Default 0. */
  readonly seed?: number;
  readonly device?: Device;
  /** Default Adam with torch's defaults. */
  readonly optimizer?: OptimizerConfig;
  readonly clip?: ClipConfig;
  /** Device-resolution hooks (tests). */
  readonly resolve?: ResolveOptions;
}

/** A forward's outputs as host arrays, by output name (tests, parity). */
export type HostOutputs = Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;

export class TfjsTrainingBackend implements TrainingBackend {
  readonly description: string;
  private readonly params: ParamStore;
  private readonly trainRun: CompiledGraph;
  private readonly compiled = new Map<string, CompiledGraph>();
  private readonly score: ScoreKind;
  private readonly optimizer: OptimizerConfig;
  private readonly slots = new Map<string, tf.Variable>();
  private steps = 0;
  private disposed = false;

  constructor(
    readonly graph: Graph,
    readonly device: DeviceReport,
    weights: ReadonlyMap<string, Tensor>,
    private readonly o: TfjsBackendOptions,
  ) {
    this.optimizer = o.optimizer ?? { kind: 'adam' };
    checkOptimizer(this.optimizer);
    if (!graph.outputs.some((x) => x.name === 'loss'))
      throw new Error(`graph '${graph.name}' has no 'loss' output`);
    this.params = new ParamStore(graph, weights);
    this.trainRun = compileGraph(graph, { mode: 'train', outputs: ['loss'], seed: o.seed ?? 0 });
    this.score = scoreKind(graph);
    this.description = `tfjs ${device.chosen}${device.gpuInUse ? ' (GPU)' : ''}`;
  }

  /** Device, notes and failed attempts in one line. */
  get deviceSummary(): string {
    return describeDevice(this.device);
  }

  private run(mode: Mode, outputs: readonly string[]): CompiledGraph {
    const key = `${mode}:${outputs.join(',')}`;
    let c = this.compiled.get(key);
    if (!c) {
      c = compileGraph(this.graph, { mode, outputs, seed: (this.o.seed ?? 0) + 1_000_003 });
      this.compiled.set(key, c);
    }
    return c;
  }

  private feeds(batch: Batch, names: readonly string[]): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const n of names) {
      const t = batch.inputs[n];
      if (!t) throw new Error(`batch has no input '${n}' (has: ${Object.keys(batch.inputs).join(', ')})`);
      out[n] = tf.tensor(t.data, [...t.shape], 'float32');
    }
    return out;
  }

  private slot(param: string, slot: string): tf.Variable {
    const key = `${param}.${slot}`;
    let v = this.slots.get(key);
    if (!v) {
      const p = this.params.variable(param);
      v = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      this.slots.set(key, v);
    }
    return v;
  }

  private dropoutSeed(step: number): number {
    return ((this.o.seed ?? 0) * 1_000_003 + step * 7919) % 2 ** 31;
  }

  async step(batch: Batch, lr: number): Promise<StepResult> {
    this.assertLive();
    const feeds = this.feeds(batch, this.trainRun.inputs);
    const trainable = this.params.trainable.map((p) => this.params.variable(p.name));
    // Slots exist before the tidy: variables made inside one would be tracked by it.
    for (const p of this.params.trainable) for (const s of slotNames(this.optimizer)) this.slot(p.name, s);
    const buffers = new Map<string, tf.Tensor>();
    let counts: ReadonlyMap<string, number> = new Map();
    const step = this.steps + 1;
    const { value, grads } = tf.variableGrads(() => {
      // Dropout masks depend on (seed, step) only, so a resumed run draws the same ones.
      const r = this.trainRun.run(feeds, this.params.values(), this.dropoutSeed(step));
      for (const [k, t] of r.buffers) buffers.set(k, tf.keep(t));
      counts = r.counts;
      return r.outputs.loss as tf.Scalar;
    }, trainable);
    this.steps = step;
    tf.tidy(() => {
      // A parameter the loss does not reach (the head under a distance loss) has no gradient and,
      // as in torch.optim, is left alone.
      const live = this.params.trainable.filter((p) => grads[this.params.variable(p.name).name]);
      const raw = live.map((p) => grads[this.params.variable(p.name).name] as tf.Tensor);
      const clipped = this.o.clip ? clipGradients(raw, this.o.clip) : raw;
      live.forEach((p, i) => {
        const g = clipped[i] as tf.Tensor;
        update(
          this.optimizer,
          p.name,
          this.params.variable(p.name),
          g,
          { get: (n, s) => this.slot(n, s) },
          lr,
          step,
        );
      });
    });
    tf.dispose(grads);
    // Running statistics after the update, as PyTorch's forward-then-step leaves them.
    for (const [name, t] of buffers) this.params.assign(name, t);
    this.params.advance(counts);
    tf.dispose(Object.values(feeds));
    const loss = (await value.data())[0] as number;
    value.dispose();
    return { loss };
  }

  /** Runs the graph's named outputs in `mode` without updating anything (tests, parity). */
  async forward(batch: Batch, mode: Mode, outputs: readonly string[]): Promise<HostOutputs> {
    this.assertLive();
    const c = this.run(mode, outputs);
    const feeds = this.feeds(batch, c.inputs);
    const r = tf.tidy(() => {
      const res = c.run(feeds, this.params.values());
      return { outputs: res.outputs, buffers: [...res.buffers.values()] };
    });
    const out: HostOutputs = {};
    for (const [k, t] of Object.entries(r.outputs))
      out[k] = { shape: t.shape, data: (await t.data()) as Float32Array };
    tf.dispose([...Object.values(r.outputs), ...r.buffers, ...Object.values(feeds)]);
    return out;
  }

  /**
   * One train-mode forward and backward with no update: the loss, the gradient of every trainable
   * parameter (IR layout) and the buffers as the forward left them. For parity checks.
   */
  async gradients(batch: Batch): Promise<{
    loss: number;
    grads: Map<string, Tensor<'float32'>>;
    buffers: Map<string, Tensor<'float32'>>;
  }> {
    this.assertLive();
    const feeds = this.feeds(batch, this.trainRun.inputs);
    const trainable = this.params.trainable.map((p) => this.params.variable(p.name));
    const buffers = new Map<string, tf.Tensor>();
    const { value, grads } = tf.variableGrads(() => {
      const r = this.trainRun.run(feeds, this.params.values());
      for (const [k, t] of r.buffers) buffers.set(k, tf.keep(t));
      return r.outputs.loss as tf.Scalar;
    }, trainable);
    const hostGrads = new Map<string, Tensor<'float32'>>();
    for (const v of trainable) {
      const name = this.params.nameOf(v.name);
      if (!grads[v.name]) continue;
      hostGrads.set(
        name,
        await this.params.toHost(grads[v.name] as tf.Tensor, this.params.layouts.get(name) ?? 'ir'),
      );
    }
    const hostBuffers = new Map<string, Tensor<'float32'>>();
    for (const [k, t] of buffers) hostBuffers.set(k, await this.params.toHost(t, 'ir'));
    const loss = (await value.data())[0] as number;
    tf.dispose([value, ...Object.values(grads), ...buffers.values(), ...Object.values(feeds)]);
    return { loss, grads: hostGrads, buffers: hostBuffers };
  }

  async evaluate(batch: Batch): Promise<EvalResult> {
    this.assertLive();
    const withLoss = batch.inputs.labels !== undefined && this.score.kind !== 'embedding';
    if (this.score.kind === 'embedding') {
      const c = this.run('eval', ['embeddingA']);
      const side = async (x: string): Promise<Float32Array> => {
        const t = batch.inputs[x];
        if (!t) throw new Error(`batch has no input '${x}'`);
        return (await this.forward({ inputs: { anchor: t }, size: batch.size }, 'eval', c.outputs))
          .embeddingA!.data;
      };
      const [a, b] = [await side('x1'), await side('x2')];
      const d = a.length / batch.size;
      const scores = new Float32Array(batch.size);
      for (let i = 0; i < batch.size; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += ((a[i * d + j] as number) - (b[i * d + j] as number)) ** 2;
        scores[i] = -Math.sqrt(s);
      }
      return { scores };
    }
    const head = this.score.kind === 'logit' ? 'logit' : 'distance';
    const out = await this.forward(batch, 'eval', withLoss ? [head, 'loss'] : [head]);
    const raw = out[head]!.data;
    const scores = head === 'logit' ? raw.map((z) => 1 / (1 + Math.exp(-z))) : raw.map((dist) => -dist);
    return withLoss ? { scores, loss: out.loss!.data[0] as number } : { scores };
  }

  readWeights(): Promise<Map<string, Tensor>> {
    this.assertLive();
    return this.params.read();
  }

  async writeWeights(weights: Map<string, Tensor>): Promise<void> {
    this.assertLive();
    this.params.write(weights);
  }

  async readOptimizerState(): Promise<OptimizerState> {
    this.assertLive();
    const slots = new Map<string, Tensor>();
    for (const [key, v] of this.slots) {
      const param = key.slice(0, key.lastIndexOf('.'));
      slots.set(key, await this.params.toHost(v, this.params.layouts.get(param) ?? 'ir'));
    }
    return { step: this.steps, slots };
  }

  async writeOptimizerState(state: OptimizerState): Promise<void> {
    this.assertLive();
    const expected = new Set(
      this.params.trainable.flatMap((p) => slotNames(this.optimizer).map((s) => `${p.name}.${s}`)),
    );
    for (const key of state.slots.keys()) {
      if (!expected.has(key))
        throw new Error(`optimizer state has slot '${key}', which ${this.optimizer.kind} does not use`);
    }
    for (const [key, t] of state.slots) {
      const param = key.slice(0, key.lastIndexOf('.'));
      const value = tf.tidy(() => this.params.toTf(t, this.params.layouts.get(param) ?? 'ir'));
      this.slot(param, key.slice(param.length + 1)).assign(value);
      value.dispose();
    }
    this.steps = state.step;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.params.dispose();
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('tfjs backend: used after dispose()');
  }
}

/** Resolves the device, loads the weights into variables and compiles the step. */
export async function createTfjsBackend(o: TfjsBackendOptions): Promise<TfjsTrainingBackend> {
  const device = await resolveDevice(o.device ?? 'auto', o.resolve);
  const weights = o.weights ?? initWeights(o.graph, o.seed ?? 0);
  return new TfjsTrainingBackend(o.graph, device, weights, o);
}

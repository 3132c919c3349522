/**
 * The tfjs TrainingBackend: core's `trainingStep` graph (forward, IR autodiff, clipping and the
 * optimizer update in one graph, dropout as masks drawn by core's rule) compiled once and run per
 * step, its `next` outputs assigned to the state variables. The same graph onnxruntime runs, so
 * same-seed runs agree across backends; tfjs supplies only the kernels (native ones on a GPU).
 */

import {
  type Batch,
  type ClipConfig,
  dropoutMasks,
  type EvalResult,
  evaluatePairs,
  type GradResult,
  type Graph,
  grad,
  initWeights,
  type OptimizerConfig,
  type OptimizerState,
  optimizerSlotsToLoad,
  type ParamGroup,
  type ScoreKind,
  STEP_INPUTS,
  type StepResult,
  scoreKind,
  type Tensor,
  type TrainingBackend,
  type TrainingForm,
  type TrainingStep,
  trainingForm,
  trainingStep,
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
import type { Layout } from '../lower/value.js';
import { ParamStore } from './params.js';

/**
 * How graphs in core's training form are lowered: the form has already made train mode explicit
 * (batchNormTrain, dropout masks), so a batchNorm left in it is a frozen one and uses its running
 * statistics, which is the lowering's eval mode.
 */
const FORM_MODE: Mode = 'eval';

export interface TfjsBackendOptions {
  /** A training graph (`siameseTraining`): inputs x1, x2, labels (or triplets) and a scalar `loss`. */
  readonly graph: Graph;
  /** Initial weights under torchvision names; default `initWeights(graph, seed)`. */
  readonly weights?: ReadonlyMap<string, Tensor>;
  /** Seeds the initial weights (when not given) and the dropout masks. Default 0. */
  readonly seed?: number;
  readonly device?: Device;
  /** Default Adam with torch's defaults. */
  readonly optimizer?: OptimizerConfig;
  readonly clip?: ClipConfig;
  /**
   * Learning-rate factors by parameter-name prefix, e.g. `[{ prefix: 'encoder.', lrFactor: 0.1 }]`.
   * To freeze parameters, pass a graph from core's `freeze` instead.
   */
  readonly paramGroups?: readonly ParamGroup[];
  /** Device-resolution hooks (tests). */
  readonly resolve?: ResolveOptions;
}

/** A forward's outputs as host arrays, by output name (tests, parity). */
export type HostOutputs = Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;

interface GradRun {
  readonly form: TrainingForm;
  readonly grads: GradResult;
  readonly run: CompiledGraph;
}

export class TfjsTrainingBackend implements TrainingBackend {
  readonly description: string;
  readonly trainStep: TrainingStep;
  private readonly state: ParamStore;
  private readonly stepRun: CompiledGraph;
  private readonly compiled = new Map<string, CompiledGraph>();
  private readonly score: ScoreKind;
  private form?: TrainingForm;
  private gradRun?: GradRun;
  private steps = 0;
  private disposed = false;

  constructor(
    readonly graph: Graph,
    readonly device: DeviceReport,
    weights: ReadonlyMap<string, Tensor>,
    private readonly o: TfjsBackendOptions,
  ) {
    this.trainStep = trainingStep(graph, {
      optimizer: o.optimizer ?? { kind: 'adam' },
      ...(o.clip ? { clip: o.clip } : {}),
      ...(o.paramGroups ? { paramGroups: o.paramGroups } : {}),
    });
    this.state = new ParamStore(graph, weights);
    for (const s of this.trainStep.slots) this.state.addLike(s.name, s.param);
    const next = [...this.trainStep.updates.values()];
    this.stepRun = compileGraph(this.trainStep.graph, {
      mode: FORM_MODE,
      outputs: ['loss', ...next],
      keepLayout: next,
    });
    this.score = scoreKind(graph);
    this.description = `tfjs ${device.chosen}${device.gpuInUse ? ' (GPU)' : ''}`;
  }

  /** Device, notes and failed attempts in one line. */
  get deviceSummary(): string {
    return describeDevice(this.device);
  }

  private get seed(): number {
    return this.o.seed ?? 0;
  }

  private trainForm(): TrainingForm {
    this.form ??= trainingForm(this.graph);
    return this.form;
  }

  /** Feeds for `inputs`: the batch's tensors, the masks of `form` for step `step`, lr and step. */
  private feeds(
    batch: Batch,
    inputs: readonly string[],
    masks: TrainingForm['dropoutMasks'],
    step: number,
    lr = 0,
  ): Record<string, tf.Tensor> {
    const drawn = dropoutMasks(masks, { seed: this.seed, step, batch: batch.size });
    const out: Record<string, tf.Tensor> = {};
    for (const n of inputs) {
      if (n === STEP_INPUTS.lr) out[n] = tf.scalar(lr, 'float32');
      else if (n === STEP_INPUTS.step) out[n] = tf.scalar(step, 'float32');
      else {
        const t = drawn.get(n) ?? batch.inputs[n];
        if (!t) throw new Error(`batch has no input '${n}' (has: ${Object.keys(batch.inputs).join(', ')})`);
        out[n] = tf.tensor(t.data, [...t.shape], 'float32');
      }
    }
    return out;
  }

  async step(batch: Batch, lr: number): Promise<StepResult> {
    this.assertLive();
    const step = this.steps + 1;
    const feeds = this.feeds(batch, this.stepRun.inputs, this.trainStep.dropoutMasks, step, lr);
    // tf.tidy keeps only the returned tensors; their layouts are noted beside them.
    const next = [...this.trainStep.updates];
    const layouts: Layout[] = [];
    let kept: tf.Tensor[];
    try {
      kept = tf.tidy(() => {
        const out = this.stepRun.run(feeds, this.state.values());
        const vals = next.map(([, output]) => out.stored[output]!);
        for (const v of vals) layouts.push(v.layout);
        return [out.outputs.loss as tf.Tensor, ...vals.map((v) => v.t)];
      });
    } finally {
      tf.dispose(Object.values(feeds));
    }
    const [lossTensor, ...values] = kept;
    next.forEach(([name], i) => {
      this.state.assignVal(name, { t: values[i]!, layout: layouts[i]! });
    });
    this.state.advance(this.trainStep.counters);
    this.steps = step;
    const loss = (await lossTensor!.data())[0] as number;
    lossTensor!.dispose();
    return { loss };
  }

  private compile(key: string, graph: Graph, mode: Mode, outputs: readonly string[]): CompiledGraph {
    let c = this.compiled.get(key);
    if (!c) {
      c = compileGraph(graph, { mode, outputs });
      this.compiled.set(key, c);
    }
    return c;
  }

  private async host(outputs: Record<string, tf.Tensor>): Promise<HostOutputs> {
    const out: HostOutputs = {};
    for (const [k, t] of Object.entries(outputs))
      out[k] = { shape: t.shape, data: Float32Array.from((await t.data()) as Float32Array) };
    tf.dispose(Object.values(outputs));
    return out;
  }

  /**
   * Runs the graph's named outputs without updating anything (tests, parity): `eval` mode uses the
   * running statistics and no dropout; `train` mode is the training form with the next step's masks.
   */
  async forward(batch: Batch, mode: Mode, outputs: readonly string[]): Promise<HostOutputs> {
    this.assertLive();
    const form = mode === 'train' ? this.trainForm() : undefined;
    const c = this.compile(
      `${mode}:${outputs.join(',')}`,
      form?.graph ?? this.graph,
      form ? FORM_MODE : mode,
      outputs,
    );
    const feeds = this.feeds(batch, c.inputs, form?.dropoutMasks ?? [], this.steps + 1);
    const r = tf.tidy(() => c.run(feeds, this.state.values()).outputs);
    tf.dispose(Object.values(feeds));
    return this.host(r);
  }

  /**
   * One train-mode forward and backward with no update (parity checks): the loss, the gradient of
   * every trainable parameter (IR layout) and the running statistics the forward leaves. Dropout
   * masks are those of the next step.
   */
  async gradients(batch: Batch): Promise<{
    loss: number;
    grads: Map<string, Tensor<'float32'>>;
    buffers: Map<string, Tensor<'float32'>>;
  }> {
    this.assertLive();
    if (!this.gradRun) {
      const form = this.trainForm();
      const grads = grad(form.graph);
      const outputs = ['loss', ...grads.gradients.values(), ...form.bufferUpdates.values()];
      this.gradRun = { form, grads, run: compileGraph(grads.graph, { mode: FORM_MODE, outputs }) };
    }
    const { form, grads, run } = this.gradRun;
    const feeds = this.feeds(batch, run.inputs, form.dropoutMasks, this.steps + 1);
    const r = tf.tidy(() => run.run(feeds, this.state.values()).outputs);
    tf.dispose(Object.values(feeds));
    const out = await this.host(r);
    const hostOf = (name: string): Tensor<'float32'> => ({
      dtype: 'float32',
      shape: [...out[name]!.shape],
      data: out[name]!.data,
    });
    return {
      loss: out.loss!.data[0] as number,
      grads: new Map([...grads.gradients].map(([param, output]) => [param, hostOf(output)])),
      buffers: new Map([...form.bufferUpdates].map(([buffer, output]) => [buffer, hostOf(output)])),
    };
  }

  async evaluate(batch: Batch): Promise<EvalResult> {
    this.assertLive();
    const data = async (b: Batch, names: readonly string[]) =>
      Object.fromEntries(Object.entries(await this.forward(b, 'eval', names)).map(([k, v]) => [k, v.data]));
    return evaluatePairs(this.score, batch, {
      outputs: data,
      embed: async (input, images, size) =>
        (await data({ inputs: { [input]: images }, size }, ['embeddingA'])).embeddingA!,
    });
  }

  readWeights(): Promise<Map<string, Tensor>> {
    this.assertLive();
    return this.state.read();
  }

  async writeWeights(weights: Map<string, Tensor>): Promise<void> {
    this.assertLive();
    this.state.write(weights);
  }

  async readOptimizerState(): Promise<OptimizerState> {
    this.assertLive();
    const slots = new Map<string, Tensor>();
    for (const s of this.trainStep.slots) slots.set(s.name, await this.state.readHost(s.name));
    return { step: this.steps, slots };
  }

  async writeOptimizerState(state: OptimizerState): Promise<void> {
    this.assertLive();
    const shapeOf = (p: string) => this.graph.params.find((x) => x.name === p)!.shape as number[];
    for (const { slot, value } of optimizerSlotsToLoad(this.trainStep, state, shapeOf))
      this.state.writeHost(slot.name, value);
    this.steps = state.step;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.state.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('tfjs backend: used after dispose()');
  }
}

/** Resolves the device, loads the weights into variables and builds the training step. */
export async function createTfjsBackend(o: TfjsBackendOptions): Promise<TfjsTrainingBackend> {
  const device = await resolveDevice(o.device ?? 'auto', o.resolve);
  const weights = o.weights ?? initWeights(o.graph, o.seed ?? 0);
  return new TfjsTrainingBackend(o.graph, device, weights, o);
}

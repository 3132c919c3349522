/**
 * The onnxruntime TrainingBackend: core's `trainingStep` graph (forward, IR autodiff and the
 * optimizer update in one graph) lowered to stock opset-17 ONNX and run in one session per step on
 * CPU or CUDA. The state lives in host arrays (`HostState`): each step feeds them in and keeps the
 * step's `updates` outputs as the new state, with no other copy.
 */
import {
  type Batch,
  type ClipConfig,
  type EvalResult,
  evaluatePairs,
  type Graph,
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
  type TrainingStep,
  trainingStep,
} from '@siamese/core';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { type DeviceReport, describeDevice, type OnnxDevice } from '../device.js';
import { createSession, loadOrt } from '../session.js';
import { batchTensor, dataFeeds } from './feeds.js';
import { evalModel, type GradModel, gradModel, type SessionPlace, type TrainingSession } from './probes.js';
import { HostState } from './state.js';
import { trainingModel } from './step-model.js';

export interface OnnxBackendOptions {
  /** A training graph (`siameseTraining`): inputs x1, x2, labels (or triplets) and a scalar `loss`. */
  readonly graph: Graph;
  /** Initial weights under torchvision names; default `initWeights(graph, seed)`. */
  readonly weights?: ReadonlyMap<string, Tensor>;
  /** Seeds the initial weights (when not given) and dropout masks. Default 0. */
  readonly seed?: number;
  readonly device?: OnnxDevice;
  /** onnxruntime intra-op threads; default onnxruntime's choice (every core). */
  readonly threads?: number;
  /** Default Adam with torch's defaults. */
  readonly optimizer?: OptimizerConfig;
  readonly clip?: ClipConfig;
  /**
   * Learning-rate factors by parameter-name prefix, e.g. `[{ prefix: 'encoder.', lrFactor: 0.1 }]`.
   * To freeze parameters, pass a graph from core's `freeze` instead.
   */
  readonly paramGroups?: readonly ParamGroup[];
}

export class OnnxTrainingBackend implements TrainingBackend {
  readonly description: string;
  private readonly state: HostState;
  private readonly evals = new Map<string, Promise<TrainingSession>>();
  private readonly score: ScoreKind;
  private gradProbe?: Promise<GradModel>;
  private steps = 0;
  private disposed = false;

  constructor(
    readonly graph: Graph,
    readonly trainStep: TrainingStep,
    private readonly train: TrainingSession,
    readonly device: DeviceReport,
    weights: ReadonlyMap<string, Tensor>,
    private readonly o: OnnxBackendOptions,
  ) {
    this.state = new HostState(graph, weights, trainStep.slots);
    this.score = scoreKind(graph);
    this.description = `onnxruntime ${device.provider}`;
  }

  /** Device, notes and failed attempts in one line. */
  get deviceSummary(): string {
    return describeDevice(this.device);
  }

  private get place(): SessionPlace {
    return {
      device: this.device.provider,
      ...(this.o.threads !== undefined ? { threads: this.o.threads } : {}),
    };
  }

  async step(batch: Batch, lr: number): Promise<StepResult> {
    this.assertLive();
    const ort = await loadOrt();
    const step = this.steps + 1;
    const { model } = this.train;
    const feeds = dataFeeds(
      ort,
      batch,
      model.dataInputs,
      this.trainStep.dropoutMasks,
      { seed: this.o.seed ?? 0, step },
      {
        [STEP_INPUTS.lr]: new ort.Tensor('float32', Float32Array.of(lr), []),
        [STEP_INPUTS.step]: new ort.Tensor('float32', Float32Array.of(step), []),
      },
    );
    for (const name of model.stateInputs) feeds[name] = this.state.feed(ort, name);
    const loss = new Float32Array(1);
    const fetches: Record<string, OrtTensor> = {
      loss: new ort.Tensor('float32', loss, []),
      ...this.state.fetches(ort, this.trainStep.updates),
    };
    await this.train.session.run(feeds, fetches);
    this.state.swap(this.trainStep.updates);
    this.state.advance(this.trainStep.counters);
    this.steps = step;
    return { loss: loss[0]! };
  }

  async evaluate(batch: Batch): Promise<EvalResult> {
    this.assertLive();
    return evaluatePairs(this.score, batch, {
      outputs: (b, names) => this.forward(names.join('+'), b),
      embed: async (input, images, size) =>
        (await this.forward('embedding', { inputs: { [input]: images }, size })).embeddingA!,
    });
  }

  /**
   * One train-mode forward and backward with no update (parity checks): the loss, the train-mode
   * outputs, every trainable parameter's gradient and the running statistics the forward leaves.
   * Dropout masks are those of the next step.
   */
  async gradients(batch: Batch): Promise<{
    loss: number;
    outputs: Record<string, Float32Array>;
    grads: Map<string, Tensor<'float32'>>;
    buffers: Map<string, Tensor<'float32'>>;
  }> {
    this.assertLive();
    const ort = await loadOrt();
    this.gradProbe ??= gradModel(this.graph, this.place);
    const { model, session, form, grads } = await this.gradProbe;
    const feeds = dataFeeds(ort, batch, model.dataInputs, form.dropoutMasks, {
      seed: this.o.seed ?? 0,
      step: this.steps + 1,
    });
    for (const name of model.stateInputs) feeds[name] = this.state.feed(ort, name);
    const out = await session.run(feeds);
    const host = (name: string): Tensor<'float32'> => {
      const t = out[name]!;
      return { dtype: 'float32', shape: [...t.dims], data: t.data as Float32Array };
    };
    const outputs: Record<string, Float32Array> = {};
    for (const o of this.graph.outputs) outputs[o.name] = host(o.name).data;
    return {
      loss: outputs.loss![0]!,
      outputs,
      grads: new Map([...grads.gradients].map(([param, output]) => [param, host(output)])),
      buffers: new Map([...form.bufferUpdates].map(([buffer, output]) => [buffer, host(output)])),
    };
  }

  /** Eval-mode outputs (running statistics, no dropout) for one of the fixed output sets. */
  async forward(which: string, batch: Batch): Promise<Record<string, Float32Array>> {
    this.assertLive();
    const ort = await loadOrt();
    let compiled = this.evals.get(which);
    if (!compiled) {
      compiled = evalModel(this.graph, which, this.place);
      this.evals.set(which, compiled);
    }
    const { model, session } = await compiled;
    const feeds: Record<string, OrtTensor> = {};
    for (const name of model.dataInputs) feeds[name] = batchTensor(ort, batch, name);
    for (const name of model.stateInputs) feeds[name] = this.state.feed(ort, name);
    const out = await session.run(feeds);
    const result: Record<string, Float32Array> = {};
    for (const name of model.outputs) result[name] = out[name]!.data as Float32Array;
    return result;
  }

  async readWeights(): Promise<Map<string, Tensor>> {
    this.assertLive();
    return this.state.readWeights();
  }

  async writeWeights(weights: Map<string, Tensor>): Promise<void> {
    this.assertLive();
    this.state.write(weights);
  }

  async readOptimizerState(): Promise<OptimizerState> {
    this.assertLive();
    return {
      step: this.steps,
      slots: new Map(this.trainStep.slots.map((s) => [s.name, this.state.read(s.name)])),
    };
  }

  async writeOptimizerState(state: OptimizerState): Promise<void> {
    this.assertLive();
    const shapeOf = (p: string) => this.state.get(p).shape;
    for (const { slot, value } of optimizerSlotsToLoad(this.trainStep, state, shapeOf))
      this.state.set(slot.name, value);
    this.steps = state.step;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const pending = [...this.evals.values(), ...(this.gradProbe ? [this.gradProbe] : [])];
    const sessions = [
      this.train.session,
      ...(await Promise.allSettled(pending)).flatMap((r) =>
        r.status === 'fulfilled' ? [r.value.session] : [],
      ),
    ];
    await Promise.allSettled(sessions.map((s) => s.release()));
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('onnx backend: used after dispose()');
  }
}

/** Builds the training step, exports it, and opens its session on the requested device. */
export async function createOnnxBackend(o: OnnxBackendOptions): Promise<OnnxTrainingBackend> {
  const optimizer = o.optimizer ?? { kind: 'adam' };
  const step = trainingStep(o.graph, {
    optimizer,
    ...(o.clip ? { clip: o.clip } : {}),
    ...(o.paramGroups ? { paramGroups: o.paramGroups } : {}),
  });
  const model = trainingModel(
    step.graph,
    step.graph.outputs.map((x) => x.name),
    'training step',
  );
  const { session, device } = await createSession(model.bytes, {
    device: o.device ?? 'auto',
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
  });
  const weights = o.weights ?? initWeights(o.graph, o.seed ?? 0);
  return new OnnxTrainingBackend(o.graph, step, { model, session }, device, weights, { ...o, optimizer });
}

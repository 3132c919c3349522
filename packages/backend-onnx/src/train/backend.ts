/**
 * The onnxruntime TrainingBackend: core's `trainingStep` graph (forward, IR autodiff and the
 * optimizer update in one graph) lowered to stock opset-17 ONNX and run in one session per step on
 * CPU or CUDA. The state (parameters, running statistics, optimizer slots) lives in host arrays:
 * each step feeds them in and keeps the `next:` outputs as the new state, with no other copy.
 */
import {
  type Batch,
  type ClipConfig,
  checkOptimizer,
  type EvalResult,
  extract,
  type Graph,
  grad,
  initWeights,
  type OptimizerConfig,
  type OptimizerState,
  STEP_INPUTS,
  type StepResult,
  scoreKind,
  slotNames,
  type Tensor,
  type TrainingBackend,
  type TrainingStep,
  trainingForm,
  trainingStep,
  weightsForGraph,
} from '@siamese/core';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { type DeviceReport, describeDevice, type OnnxDevice } from '../device.js';
import { createSession, loadOrt } from '../session.js';
import { dropoutMask } from './masks.js';
import { type TrainingModel, trainingModel } from './step-model.js';

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
}

interface Compiled {
  readonly model: TrainingModel;
  readonly session: InferenceSession;
}

export class OnnxTrainingBackend implements TrainingBackend {
  readonly description: string;
  private readonly state = new Map<string, Tensor>();
  /** The other half of each updated state value's double buffer. */
  private readonly spare = new Map<string, Float32Array>();
  private readonly slotNames: readonly string[];
  private readonly evals = new Map<string, Promise<Compiled>>();
  private steps = 0;
  private disposed = false;

  constructor(
    readonly graph: Graph,
    readonly step_: TrainingStep,
    private readonly train: Compiled,
    readonly device: DeviceReport,
    weights: ReadonlyMap<string, Tensor>,
    private readonly o: OnnxBackendOptions,
  ) {
    // Copies: the state arrays are written in place by later steps (double buffering).
    for (const [k, v] of weightsForGraph(graph, weights)) this.state.set(k, copy(v));
    for (const s of step_.slots) this.state.set(s.name, zerosLike(this.state.get(s.param)!));
    this.description = `onnxruntime ${device.provider}`;
    this.slotNames = slotNames(o.optimizer ?? { kind: 'adam' });
  }

  /** Device, notes and failed attempts in one line. */
  get deviceSummary(): string {
    return describeDevice(this.device);
  }

  async step(batch: Batch, lr: number): Promise<StepResult> {
    this.assertLive();
    const ort = await loadOrt();
    const step = this.steps + 1;
    const feeds: Record<string, OrtTensor> = {};
    for (const name of this.train.model.dataInputs) {
      if (name === STEP_INPUTS.lr) feeds[name] = new ort.Tensor('float32', Float32Array.of(lr), []);
      else if (name === STEP_INPUTS.step) feeds[name] = new ort.Tensor('float32', Float32Array.of(step), []);
      else if (!name.startsWith('dropoutMask:')) feeds[name] = this.batchTensor(ort, batch, name);
    }
    for (const m of this.step_.dropoutMasks) {
      const like = this.step_.graph.inputs.find((i) => i.name === m.input)!;
      const dims = maskDims(like.shape, batch.size, m.input);
      const size = dims.reduce((p, d) => p * d, 1);
      feeds[m.input] = new ort.Tensor(
        'float32',
        dropoutMask(this.o.seed ?? 0, step, m.input, size, m.p),
        dims,
      );
    }
    for (const name of this.train.model.stateInputs) feeds[name] = toOrt(ort, this.state.get(name)!);
    // The next state is written into a second set of arrays (allocating ~3x the parameters' size
    // every step cost a quarter of a ResNet-18 step), which become the state; the old ones are
    // written by the step after.
    const loss = new Float32Array(1);
    const fetches: Record<string, OrtTensor> = { loss: new ort.Tensor('float32', loss, []) };
    for (const [name, output] of this.step_.updates) {
      const current = this.state.get(name)!;
      let next = this.spare.get(name);
      if (next?.length !== current.data.length) next = new Float32Array(current.data.length);
      this.spare.set(name, next);
      fetches[output] = new ort.Tensor('float32', next, [...current.shape]);
    }
    await this.train.session.run(feeds, fetches);
    for (const [name] of this.step_.updates) {
      const current = this.state.get(name)!;
      this.state.set(name, { dtype: 'float32', shape: current.shape, data: this.spare.get(name)! });
      this.spare.set(name, current.data as Float32Array);
    }
    for (const [name, by] of this.step_.counters) {
      const c = this.state.get(name);
      if (c?.dtype === 'int64')
        this.state.set(name, { ...c, data: BigInt64Array.of((c.data as BigInt64Array)[0]! + BigInt(by)) });
    }
    this.steps = step;
    return { loss: loss[0]! };
  }

  async evaluate(batch: Batch): Promise<EvalResult> {
    this.assertLive();
    const { kind } = scoreKind(this.graph);
    if (kind === 'embedding') {
      const side = async (x: string): Promise<Float32Array> => {
        const t = batch.inputs[x];
        if (!t) throw new Error(`batch has no input '${x}'`);
        const r = await this.forward('embedding', { inputs: { anchor: t }, size: batch.size });
        return r.embeddingA!;
      };
      const [a, b] = [await side('x1'), await side('x2')];
      const d = a.length / batch.size;
      const scores = new Float32Array(batch.size);
      for (let i = 0; i < batch.size; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (a[i * d + j]! - b[i * d + j]!) ** 2;
        scores[i] = -Math.sqrt(s);
      }
      return { scores };
    }
    const withLoss = batch.inputs.labels !== undefined;
    const r = await this.forward(withLoss ? `${kind}+loss` : kind, batch);
    const raw = r[kind]!;
    const scores = kind === 'logit' ? raw.map((z) => 1 / (1 + Math.exp(-z))) : raw.map((dist) => -dist);
    return withLoss ? { scores, loss: r.loss![0]! } : { scores };
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
    this.gradModel ??= (async () => {
      const form = trainingForm(this.graph);
      const g = grad(form.graph);
      const model = trainingModel(
        g.graph,
        g.graph.outputs.map((x) => x.name),
        'gradients',
      );
      const { session } = await createSession(model.bytes, {
        device: this.device.provider,
        ...(this.o.threads !== undefined ? { threads: this.o.threads } : {}),
      });
      return { model, session, form };
    })();
    const { model, session, form } = await this.gradModel;
    const feeds: Record<string, OrtTensor> = {};
    for (const name of model.dataInputs) {
      const m = form.dropoutMasks.find((x) => x.input === name);
      if (!m) {
        feeds[name] = this.batchTensor(ort, batch, name);
        continue;
      }
      const like = form.graph.inputs.find((i) => i.name === name)!;
      const dims = maskDims(like.shape, batch.size, name);
      const size = dims.reduce((p, d) => p * d, 1);
      feeds[name] = new ort.Tensor(
        'float32',
        dropoutMask(this.o.seed ?? 0, this.steps + 1, name, size, m.p),
        dims,
      );
    }
    for (const name of model.stateInputs) feeds[name] = toOrt(ort, this.state.get(name)!);
    const out = await session.run(feeds);
    const host = (name: string): Tensor<'float32'> => {
      const t = out[name]!;
      return { dtype: 'float32', shape: [...t.dims], data: t.data as Float32Array };
    };
    const grads = new Map<string, Tensor<'float32'>>();
    const buffers = new Map<string, Tensor<'float32'>>();
    const outputs: Record<string, Float32Array> = {};
    for (const name of model.outputs) {
      if (name.startsWith('grad:')) grads.set(name.slice(5), host(name));
      else if (name.startsWith('next:')) buffers.set(name.slice(5), host(name));
      else outputs[name] = host(name).data;
    }
    return { loss: outputs.loss![0]!, outputs, grads, buffers };
  }

  private gradModel?: Promise<Compiled & { form: ReturnType<typeof trainingForm> }>;

  /** Eval-mode outputs (running statistics, no dropout) for one of the fixed output sets. */
  async forward(which: string, batch: Batch): Promise<Record<string, Float32Array>> {
    this.assertLive();
    const ort = await loadOrt();
    let compiled = this.evals.get(which);
    if (!compiled) {
      compiled = this.compileEval(which);
      this.evals.set(which, compiled);
    }
    const { model, session } = await compiled;
    const feeds: Record<string, OrtTensor> = {};
    for (const name of model.dataInputs) feeds[name] = this.batchTensor(ort, batch, name);
    for (const name of model.stateInputs) feeds[name] = toOrt(ort, this.state.get(name)!);
    const out = await session.run(feeds);
    const result: Record<string, Float32Array> = {};
    for (const name of model.outputs) result[name] = out[name]!.data as Float32Array;
    return result;
  }

  private async compileEval(which: string): Promise<Compiled> {
    const outputs = which === 'embedding' ? ['embeddingA'] : which.split('+');
    const g =
      which === 'embedding'
        ? extract(this.graph, {
            name: `${this.graph.name}_embed`,
            inputs: [],
            outputs: [{ name: 'embeddingA', value: 'embeddingA' }],
          })
        : this.graph;
    const model = trainingModel(g, outputs, 'eval-mode forward');
    const { session } = await createSession(model.bytes, {
      device: this.device.provider,
      ...(this.o.threads !== undefined ? { threads: this.o.threads } : {}),
    });
    return { model, session };
  }

  private batchTensor(ort: typeof import('onnxruntime-node'), batch: Batch, name: string): OrtTensor {
    const t = batch.inputs[name];
    if (!t) throw new Error(`batch has no input '${name}' (has: ${Object.keys(batch.inputs).join(', ')})`);
    return new ort.Tensor('float32', t.data, [...t.shape]);
  }

  async readWeights(): Promise<Map<string, Tensor>> {
    this.assertLive();
    return new Map(this.graph.params.map((p) => [p.name, copy(this.state.get(p.name)!)]));
  }

  async writeWeights(weights: Map<string, Tensor>): Promise<void> {
    this.assertLive();
    for (const [k, v] of weightsForGraph(this.graph, weights)) this.state.set(k, copy(v));
  }

  async readOptimizerState(): Promise<OptimizerState> {
    this.assertLive();
    return {
      step: this.steps,
      slots: new Map(this.step_.slots.map((s) => [s.name, copy(this.state.get(s.name)!)])),
    };
  }

  async writeOptimizerState(state: OptimizerState): Promise<void> {
    this.assertLive();
    const known = new Map(this.step_.slots.map((s) => [s.name, s]));
    // Slots of parameters the loss does not reach (the head under a distance loss) are never
    // updated here; the tfjs backend keeps them, so a checkpoint it wrote still loads.
    const frozen = new Set(this.step_.frozen.flatMap((p) => this.slotNames.map((n) => `${p}.${n}`)));
    for (const [key, t] of state.slots) {
      if (frozen.has(key)) continue;
      const slot = known.get(key);
      if (!slot) throw new Error(`optimizer state has slot '${key}', which this optimizer does not use`);
      const p = this.state.get(slot.param)!;
      if (t.dtype !== 'float32' || t.shape.join(',') !== p.shape.join(','))
        throw new Error(
          `optimizer slot '${key}' must be float32 [${p.shape.join(',')}], got ${t.dtype} [${t.shape.join(',')}]`,
        );
      this.state.set(key, copy(t));
    }
    this.steps = state.step;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const pending = [...this.evals.values(), ...(this.gradModel ? [this.gradModel] : [])];
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

/** A mask's dimensions: the activation's, with the batch symbol bound to the batch size. */
function maskDims(shape: readonly (number | string)[], n: number, input: string): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    if (d === 'N') return n;
    throw new Error(`dropout mask '${input}' has an unknown symbolic dimension '${d}'`);
  });
}

function zerosLike(t: Tensor): Tensor {
  return { dtype: 'float32', shape: [...t.shape], data: new Float32Array(t.data.length) };
}

function copy(t: Tensor): Tensor {
  return { ...t, shape: [...t.shape], data: t.data.slice() } as Tensor;
}

function toOrt(ort: typeof import('onnxruntime-node'), t: Tensor): OrtTensor {
  return new ort.Tensor(t.dtype === 'int64' ? 'int64' : 'float32', t.data as Float32Array, [...t.shape]);
}

/** Builds the training step, exports it, and opens its session on the requested device. */
export async function createOnnxBackend(o: OnnxBackendOptions): Promise<OnnxTrainingBackend> {
  const optimizer = o.optimizer ?? { kind: 'adam' };
  checkOptimizer(optimizer);
  const step = trainingStep(o.graph, { optimizer, ...(o.clip ? { clip: o.clip } : {}) });
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

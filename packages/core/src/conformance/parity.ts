/**
 * Model-level parity fixtures: a tiny Siamese ResNet with PyTorch's weights, inputs, eval and train
 * outputs, BatchNorm statistics after one train-mode forward and the gradients of one step
 * (tools/reference/parity_fixture.py), under `packages/core/conformance/models/<name>/`. A backend
 * loads the weights into `siamese(config)` / `siameseTraining(config, { kind: 'bce' })`, runs the
 * inputs and compares with `closeEnough` at the fixture's tolerances.
 */
import { readFile } from 'node:fs/promises';
import type { SiameseConfig } from '../nn/siamese.js';
import type { Tensor } from '../tensor/tensor.js';
import { decodeSafetensors } from '../weights/safetensors.js';
import type { ConformanceTensor, Tolerance } from './types.js';

export const PARITY_MODELS = ['siamese-tiny'] as const;
export type ParityModel = (typeof PARITY_MODELS)[number];

/** expected.json: PyTorch's float64 results rounded once to float32. */
export interface ParityExpected {
  readonly generator: string;
  /** torch.__version__ of the generating run. */
  readonly torch: string;
  readonly config: SiameseConfig;
  /** Outputs of `siamese(config)` in eval mode. */
  readonly eval: {
    readonly logit: ConformanceTensor;
    readonly probability: ConformanceTensor;
    readonly embeddingA: ConformanceTensor;
    readonly embeddingB: ConformanceTensor;
  };
  /** Outputs of `siameseTraining(config, { kind: 'bce' })` in train mode; `loss` is a scalar mean. */
  readonly train: {
    readonly logit: ConformanceTensor;
    readonly loss: ConformanceTensor;
    readonly embeddingA: ConformanceTensor;
    readonly embeddingB: ConformanceTensor;
  };
  /** The optimizer of `sgdStep`: plain SGD. */
  readonly sgd: { readonly lr: number; readonly momentum: number };
  readonly tolerance: {
    /** eval and train outputs. */
    readonly outputs: Tolerance;
    readonly buffers: Tolerance;
    readonly grads: Tolerance;
    readonly sgdStep: Tolerance;
  };
}

export interface ParityInputs {
  /** [N, C, H, W] images of each side. */
  readonly x1: Tensor<'float32'>;
  readonly x2: Tensor<'float32'>;
  /** [N, 1]: 1 = same, 0 = different; both occur. */
  readonly labels: Tensor<'float32'>;
}

export interface ParityFixture {
  readonly name: ParityModel;
  readonly config: SiameseConfig;
  /** Every parameter and buffer of `siamese(config)` under the IR's (torchvision's) names. */
  readonly weights: Map<string, Tensor>;
  readonly inputs: ParityInputs;
  readonly expected: ParityExpected;
  /**
   * Every BatchNorm buffer after ONE train-mode forward of both sides: side a's batch updates the
   * running statistics first, then side b's (num_batches_tracked grows by 2).
   */
  readonly trainBuffers: Map<string, Tensor>;
  /** d(train loss)/d(parameter) for every trainable parameter, from one backward pass. */
  readonly grads: Map<string, Tensor<'float32'>>;
  /**
   * Trainable parameters after one plain SGD step (`expected.sgd`): weight - lr * grad, computed here
   * in float64 and rounded once (the generator checks this is what torch.optim.SGD does).
   */
  readonly sgdStep: Map<string, Tensor<'float32'>>;
}

/** `packages/core/conformance/models/`: two levels up from both `src/conformance/` and `dist/conformance/`. */
const DIR = new URL('../../conformance/models/', import.meta.url);

export async function loadParityFixture(name: ParityModel = 'siamese-tiny'): Promise<ParityFixture> {
  if (!PARITY_MODELS.includes(name)) {
    throw new Error(`unknown parity fixture '${String(name)}' (known: ${PARITY_MODELS.join(', ')})`);
  }
  const dir = new URL(`${name}/`, DIR);
  const source = (file: string): string => `conformance/models/${name}/${file}`;
  const tensors = async (file: string): Promise<Map<string, Tensor>> => {
    const buf = await readFile(new URL(file, dir));
    // A plain Uint8Array over the Buffer: Buffer#slice is a view, and the decoder's copies rely on slice copying.
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    return decodeSafetensors(bytes, { source: source(file) }).tensors;
  };

  const [expected, weights, inputs, trainBuffers, grads] = await Promise.all([
    readFile(new URL('expected.json', dir), 'utf8').then((t) => JSON.parse(t) as ParityExpected),
    tensors('weights.safetensors'),
    tensors('inputs.safetensors'),
    tensors('train_buffers.safetensors'),
    tensors('grads.safetensors'),
  ]);
  const input = (k: string): Tensor<'float32'> => {
    const t = inputs.get(k);
    if (t === undefined) throw new Error(`${source('inputs.safetensors')}: no tensor '${k}'`);
    return float32(t, k, source('inputs.safetensors'));
  };
  const floatGrads = new Map([...grads].map(([k, t]) => [k, float32(t, k, source('grads.safetensors'))]));
  return {
    name,
    config: expected.config,
    weights,
    inputs: { x1: input('x1'), x2: input('x2'), labels: input('labels') },
    expected,
    trainBuffers,
    grads: floatGrads,
    sgdStep: sgdStep(weights, floatGrads, expected.sgd.lr, source('grads.safetensors')),
  };
}

function float32(t: Tensor, name: string, source: string): Tensor<'float32'> {
  if (t.dtype !== 'float32') throw new Error(`${source}: '${name}' is ${t.dtype}, expected float32`);
  return t as Tensor<'float32'>;
}

function sgdStep(
  weights: ReadonlyMap<string, Tensor>,
  grads: ReadonlyMap<string, Tensor<'float32'>>,
  lr: number,
  source: string,
): Map<string, Tensor<'float32'>> {
  const out = new Map<string, Tensor<'float32'>>();
  for (const [k, g] of grads) {
    const w = weights.get(k);
    if (w?.dtype !== 'float32' || w.data.length !== g.data.length) {
      throw new Error(`${source}: gradient '${k}' has no float32 weight of its size`);
    }
    // Doubles, then one rounding on store: PyTorch's float64 step rounded once.
    const data = new Float32Array(g.data.length);
    for (let i = 0; i < data.length; i++) data[i] = (w.data[i] as number) - lr * (g.data[i] as number);
    out.set(k, { dtype: 'float32', shape: [...w.shape], data });
  }
  return out;
}

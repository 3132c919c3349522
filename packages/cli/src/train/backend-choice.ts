/**
 * Which training backend `train` uses, and why. 'auto' takes tfjs only where a native GPU build
 * really runs on the GPU (the one case it beats onnxruntime); otherwise onnxruntime, which trains
 * the IR's own autodiff graph on CUDA when its provider loads and on the CPU otherwise.
 */
import type { Graph, TrainingBackend } from '@siamese/core';
import { UsageError } from '../errors.js';
import type { TrainSettings } from './settings.js';

export interface ChosenBackend {
  readonly backend: TrainingBackend & { readonly deviceSummary: string };
  /** E.g. "onnx (auto: no tfjs GPU build uses a GPU here)". */
  readonly name: string;
}

function optimizerOf(s: TrainSettings) {
  return s.optimizer === 'sgd'
    ? ({ kind: 'sgd', momentum: 0.9, weightDecay: s.weightDecay } as const)
    : ({ kind: s.optimizer, weightDecay: s.weightDecay } as const);
}

async function openTfjs(s: TrainSettings, graph: Graph) {
  const { createTfjsBackend } = await import('@siamese/backend-tfjs');
  return createTfjsBackend({
    graph,
    seed: s.seed,
    device: s.device === 'cuda' ? 'gpu' : s.device,
    optimizer: optimizerOf(s),
  });
}

/** Refuses a combination that cannot work before any data is read. */
export function checkBackendChoice(s: TrainSettings): void {
  if (s.backend === 'onnx' && (s.device === 'wasm' || s.device === 'js')) {
    throw new UsageError(
      `--device ${s.device} is a tfjs device; with --backend onnx use auto, gpu (cuda) or cpu`,
    );
  }
}

async function openOnnx(s: TrainSettings, graph: Graph) {
  checkBackendChoice(s);
  const { createOnnxBackend } = await import('@siamese/backend-onnx');
  return createOnnxBackend({
    graph,
    seed: s.seed,
    device: s.device === 'gpu' ? 'cuda' : (s.device as 'auto' | 'cuda' | 'cpu'),
    optimizer: optimizerOf(s),
  });
}

/** A tfjs native GPU build that really uses the GPU, or why there is none (tfjs's own reason). */
async function tfjsGpu(): Promise<string | undefined> {
  try {
    const { resolveDevice } = await import('@siamese/backend-tfjs');
    const r = await resolveDevice('gpu');
    return r.gpuInUse ? undefined : 'the tfjs GPU build runs on the CPU here';
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    return `no tfjs GPU build is usable here (${why})`;
  }
}

/** What choosing needs from the backends; tests replace it. */
export interface BackendOpeners {
  readonly tfjsGpu: () => Promise<string | undefined>;
  readonly openTfjs: (s: TrainSettings, graph: Graph) => Promise<ChosenBackend['backend']>;
  readonly openOnnx: (s: TrainSettings, graph: Graph) => Promise<ChosenBackend['backend']>;
}

const OPENERS: BackendOpeners = { tfjsGpu, openTfjs, openOnnx };

export async function chooseBackend(
  s: TrainSettings,
  graph: Graph,
  { tfjsGpu, openTfjs, openOnnx }: BackendOpeners = OPENERS,
): Promise<ChosenBackend> {
  if (s.backend === 'tfjs') return { backend: await openTfjs(s, graph), name: 'tfjs' };
  if (s.backend === 'onnx') return { backend: await openOnnx(s, graph), name: 'onnx' };
  // auto: an explicit tfjs-only device keeps tfjs; otherwise a real tfjs GPU, else onnxruntime.
  if (s.device === 'wasm' || s.device === 'js') {
    return { backend: await openTfjs(s, graph), name: `tfjs (auto: --device ${s.device} is a tfjs device)` };
  }
  if (s.device !== 'cpu') {
    const why = await tfjsGpu();
    if (!why)
      return { backend: await openTfjs(s, graph), name: 'tfjs (auto: its GPU build runs on a GPU here)' };
    try {
      return { backend: await openOnnx(s, graph), name: `onnx (auto: ${why})` };
    } catch (e) {
      if (s.device === 'auto') throw e;
      // An explicit GPU request that neither backend can meet: say why for both.
      const onnx = e instanceof Error ? e.message : String(e);
      throw new UsageError(
        `--device ${s.device}: no GPU training backend is usable here: tfjs: ${why}; onnxruntime: ${onnx}`,
      );
    }
  }
  return { backend: await openOnnx(s, graph), name: 'onnx (auto: onnxruntime trains fastest on the CPU)' };
}

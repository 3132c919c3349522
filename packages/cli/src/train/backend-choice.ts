/**
 * Which training backend `train` uses, and why. 'auto' takes tfjs only where a native GPU build
 * really runs on the GPU (the one case it beats onnxruntime); otherwise onnxruntime, which trains
 * the IR's own autodiff graph on CUDA when its provider loads and on the CPU otherwise.
 * @siamese/backend-tfjs is an optional peer of the cli: only a dynamic import loads it, and only
 * when tfjs is asked for or probed; without it `auto` trains on onnxruntime.
 */
import type { Graph, TrainingBackend } from '@siamese/core';
import { UsageError } from '../errors.js';
import type { TrainSettings } from './settings.js';

export interface ChosenBackend {
  readonly backend: TrainingBackend & { readonly deviceSummary: string };
  /** E.g. "onnx (auto: no tfjs GPU build uses a GPU here)". */
  readonly name: string;
}

/** --encoder-lr-factor as core's parameter group. */
function paramGroupsOf(s: TrainSettings) {
  return s.encoderLrFactor === undefined
    ? {}
    : { paramGroups: [{ prefix: 'encoder.', lrFactor: s.encoderLrFactor }] };
}

function optimizerOf(s: TrainSettings) {
  return s.optimizer === 'sgd'
    ? ({ kind: 'sgd', momentum: 0.9, weightDecay: s.weightDecay } as const)
    : ({ kind: s.optimizer, weightDecay: s.weightDecay } as const);
}

/** @siamese/backend-tfjs as the cli uses it: an optional peer, loaded only when tfjs trains. */
export type TfjsModule = Pick<typeof import('@siamese/backend-tfjs'), 'createTfjsBackend' | 'resolveDevice'>;

/** Loads @siamese/backend-tfjs; tests replace it to simulate a cli installed without it. */
export type TfjsImporter = () => Promise<TfjsModule>;

const TFJS = '@siamese/backend-tfjs';
const importTfjs: TfjsImporter = () => import('@siamese/backend-tfjs');

/** The package itself is not installed (not one of its own dependencies). */
function isTfjsMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${TFJS}'`);
}

/** The option that asked for tfjs, as the user wrote it. */
function tfjsRequest(s: TrainSettings): string {
  return s.backend === 'tfjs' ? '--backend tfjs' : `--device ${s.device}`;
}

/**
 * Loads @siamese/backend-tfjs for a request that needs it; without it, a UsageError saying what
 * to install (one line, exit code 2).
 */
async function loadTfjs(s: TrainSettings, importer: TfjsImporter): Promise<TfjsModule> {
  try {
    return await importer();
  } catch (e) {
    if (isTfjsMissing(e)) throw new UsageError(`${tfjsRequest(s)} needs ${TFJS}: npm install ${TFJS}`);
    throw e;
  }
}

async function openTfjsWith(importer: TfjsImporter, s: TrainSettings, graph: Graph) {
  const { createTfjsBackend } = await loadTfjs(s, importer);
  return createTfjsBackend({
    graph,
    seed: s.seed,
    device: s.device === 'cuda' ? 'gpu' : s.device,
    optimizer: optimizerOf(s),
    ...paramGroupsOf(s),
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

/** Whether these settings can only train on tfjs. */
function needsTfjs(s: TrainSettings): boolean {
  return s.backend === 'tfjs' || (s.backend === 'auto' && (s.device === 'wasm' || s.device === 'js'));
}

/**
 * checkBackendChoice, and for a request only tfjs can serve, that @siamese/backend-tfjs is
 * installed: both before any data is read.
 */
export async function preflightBackend(s: TrainSettings, importer: TfjsImporter = importTfjs): Promise<void> {
  checkBackendChoice(s);
  if (needsTfjs(s)) await loadTfjs(s, importer);
}

async function openOnnx(s: TrainSettings, graph: Graph) {
  checkBackendChoice(s);
  const { createOnnxBackend } = await import('@siamese/backend-onnx');
  return createOnnxBackend({
    graph,
    seed: s.seed,
    device: s.device === 'gpu' ? 'cuda' : (s.device as 'auto' | 'cuda' | 'cpu'),
    optimizer: optimizerOf(s),
    ...paramGroupsOf(s),
  });
}

/** A tfjs native GPU build that really uses the GPU, or why there is none (tfjs's own reason). */
async function tfjsGpuWith(importer: TfjsImporter): Promise<string | undefined> {
  try {
    const r = await (await importer()).resolveDevice('gpu');
    return r.gpuInUse ? undefined : 'the tfjs GPU build runs on the CPU here';
  } catch (e) {
    if (isTfjsMissing(e)) return `${TFJS} is not installed`;
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

/** The real openers; `importer` stands in for `import('@siamese/backend-tfjs')` in tests. */
export function backendOpeners(importer: TfjsImporter = importTfjs): BackendOpeners {
  return {
    tfjsGpu: () => tfjsGpuWith(importer),
    openTfjs: (s, graph) => openTfjsWith(importer, s, graph),
    openOnnx,
  };
}

const OPENERS: BackendOpeners = backendOpeners();

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

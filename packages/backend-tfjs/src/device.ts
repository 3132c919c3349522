/**
 * Device resolution: 'auto' | 'gpu' | 'cpu' | 'wasm' | 'js' → the tfjs backend actually loaded.
 * Native packages are optional peers, loaded by dynamic import; every attempt is reported with its
 * error, and a GPU package that silently runs on the CPU (libtensorflow without CUDA) is detected.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from './kernels/register.js';

export const DEVICES = ['auto', 'gpu', 'cpu', 'wasm', 'js'] as const;
export type Device = (typeof DEVICES)[number];
/** What actually runs: native TensorFlow on a GPU or the CPU, tfjs-backend-wasm, or pure JS. */
export type ResolvedKind = Exclude<Device, 'auto'>;

/** What tfjs-node-gpu 4.22 (libtensorflow 2.9) needs to really use a GPU. */
export const GPU_REQUIREMENTS =
  'an NVIDIA GPU with driver >= 450, CUDA 11.2 and cuDNN 8.1 libraries on the loader path (libcudart.so.11.0, libcudnn.so.8)';

export interface DeviceAttempt {
  readonly device: ResolvedKind;
  readonly package: string;
  readonly ok: boolean;
  /** Why it was not used (import error, backend init failure, no GPU visible). */
  readonly error?: string;
}

export interface DeviceReport {
  readonly requested: Device;
  readonly chosen: ResolvedKind;
  /** tfjs backend name now active: 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend: string;
  readonly package: string;
  /** True only when TensorFlow reports a GPU device in use (not merely the GPU package loaded). */
  readonly gpuInUse: boolean;
  readonly attempts: readonly DeviceAttempt[];
  /** Extra facts: wasm SIMD/threads, a GPU package running on the CPU, ... */
  readonly notes: readonly string[];
}

export class DeviceError extends Error {
  override name = 'DeviceError';
  constructor(
    message: string,
    readonly attempts: readonly DeviceAttempt[],
  ) {
    super(message);
  }
}

/** Loads a module by name; injectable so tests can simulate missing or CPU-only native builds. */
export type Importer = (specifier: string) => Promise<unknown>;

export interface ResolveOptions {
  readonly importer?: Importer;
}

const NATIVE = { gpu: '@tensorflow/tfjs-node-gpu', cpu: '@tensorflow/tfjs-node' } as const;
/** The tfjs backend both native packages register. */
const NATIVE_BACKEND = 'tensorflow';
const PACKAGES: Readonly<Record<ResolvedKind, string>> = {
  ...NATIVE,
  wasm: '@tensorflow/tfjs-backend-wasm',
  js: '@tensorflow/tfjs-backend-cpu',
};

// A specifier held in a variable: TypeScript must not require the optional peers at compile time.
const defaultImporter: Importer = (specifier) => import(specifier);

function message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0] ?? text;
}

/** The native backend's own flag: set by the binding from TensorFlow's device list. */
function nativeGpuInUse(): boolean {
  const b = tf.backend() as unknown as { isUsingGpuDevice?: unknown };
  return b.isUsingGpuDevice === true;
}

type Outcome = { ok: true; notes: string[]; gpuInUse: boolean } | { ok: false; error: string };

/**
 * Imports a tfjs platform package. tfjs-node and tfjs-node-gpu register their ~155 'tensorflow'
 * kernels into the one global tfjs-core registry before they load their native addon, so one that
 * then fails (no libtensorflow, missing CUDA libraries) leaves its kernels behind, and the next
 * native build imported re-registers every one of them with an "already registered" warning.
 * Here a failed import takes back the kernels it registered, leaving the engine as it found it.
 */
export async function importPlatform(specifier: string, importer: Importer = defaultImporter): Promise<void> {
  const had = new Set(tf.getKernelsForBackend(NATIVE_BACKEND).map((k) => k.kernelName));
  try {
    await importer(specifier);
  } catch (e) {
    for (const k of tf.getKernelsForBackend(NATIVE_BACKEND)) {
      if (!had.has(k.kernelName)) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
    }
    throw e;
  }
}

async function tryNative(kind: 'gpu' | 'cpu', importer: Importer): Promise<Outcome> {
  try {
    await importPlatform(NATIVE[kind], importer);
  } catch (e) {
    return { ok: false, error: `import failed: ${message(e)}` };
  }
  // The package registers 'tensorflow' on the tfjs-core it imports; a second copy of tfjs-core
  // (a version mismatch) would leave ours without it.
  if (!tf.findBackend('tensorflow')) {
    return {
      ok: false,
      error:
        'loaded, but its tensorflow backend is not registered with this tfjs-core (a different @tensorflow/tfjs-core version is installed; pin all @tensorflow/* to 4.22.0)',
    };
  }
  try {
    if (!(await tf.setBackend('tensorflow')))
      return { ok: false, error: 'tensorflow backend failed to start' };
  } catch (e) {
    return { ok: false, error: `tensorflow backend failed to start: ${message(e)}` };
  }
  const gpu = nativeGpuInUse();
  if (kind === 'gpu' && !gpu) {
    return {
      ok: true,
      gpuInUse: false,
      notes: [
        `${NATIVE.gpu} loaded but TensorFlow sees no GPU and runs on the CPU; it needs ${GPU_REQUIREMENTS}`,
      ],
    };
  }
  return { ok: true, gpuInUse: gpu, notes: [] };
}

async function tryWasm(importer: Importer): Promise<Outcome> {
  try {
    await importer(PACKAGES.wasm);
    if (!(await tf.setBackend('wasm'))) return { ok: false, error: 'wasm backend failed to initialize' };
  } catch (e) {
    return { ok: false, error: message(e) };
  }
  registerWasmTrainingKernels();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  return {
    ok: true,
    gpuInUse: false,
    notes: [`wasm SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off (single-threaded in Node)'}`],
  };
}

async function tryJs(importer: Importer): Promise<Outcome> {
  try {
    await importer(PACKAGES.js);
    if (!(await tf.setBackend('cpu'))) return { ok: false, error: 'cpu backend failed to initialize' };
  } catch (e) {
    return { ok: false, error: message(e) };
  }
  return { ok: true, gpuInUse: false, notes: [] };
}

/**
 * tfjs-core registers no gradients by itself (its per-kernel gradient files are ES modules Node
 * cannot load); the @tensorflow/tfjs bundle registers them all in the shared global registry.
 */
async function registerGradients(): Promise<void> {
  if (tf.getGradient('Conv2D') !== undefined) return;
  await import('@tensorflow/tfjs');
}

const ORDER: Readonly<Record<Device, readonly ResolvedKind[]>> = {
  auto: ['gpu', 'cpu', 'wasm', 'js'],
  gpu: ['gpu'],
  cpu: ['cpu'],
  wasm: ['wasm'],
  js: ['js'],
};

/**
 * Loads and activates the backend for `device`. 'auto' tries gpu, cpu, wasm, js in that order and
 * takes the first that works; a named device is strict: if it cannot be had, a DeviceError lists
 * every attempt. Sets tfjs's global backend (one per process).
 */
export async function resolveDevice(device: Device = 'auto', o: ResolveOptions = {}): Promise<DeviceReport> {
  if (!DEVICES.includes(device)) {
    throw new DeviceError(`device must be one of ${DEVICES.join(', ')}, got '${String(device)}'`, []);
  }
  const importer = o.importer ?? defaultImporter;
  await registerGradients();
  const attempts: DeviceAttempt[] = [];
  for (const kind of ORDER[device]) {
    const r =
      kind === 'gpu' || kind === 'cpu'
        ? await tryNative(kind, importer)
        : kind === 'wasm'
          ? await tryWasm(importer)
          : await tryJs(importer);
    if (!r.ok) {
      attempts.push({ device: kind, package: PACKAGES[kind], ok: false, error: r.error });
      continue;
    }
    if (device === 'gpu' && !r.gpuInUse) {
      attempts.push({ device: kind, package: PACKAGES[kind], ok: false, error: r.notes.join('; ') });
      break;
    }
    attempts.push({ device: kind, package: PACKAGES[kind], ok: true });
    return {
      requested: device,
      chosen: kind === 'gpu' && !r.gpuInUse ? 'cpu' : kind,
      backend: tf.getBackend(),
      package: PACKAGES[kind],
      gpuInUse: r.gpuInUse,
      attempts,
      notes: r.notes,
    };
  }
  // One line: the CLI prints it as is.
  const tried = attempts.map((a) => `${a.device} (${a.package}): ${a.error ?? 'failed'}`).join('; ');
  const hint =
    device === 'gpu'
      ? ` The GPU build needs ${GPU_REQUIREMENTS}; install it with \`npm i @tensorflow/tfjs-node-gpu@4.22.0\` (its install script downloads libtensorflow). Use device 'auto' to fall back.`
      : device === 'cpu'
        ? `\nInstall \`@tensorflow/tfjs-node@4.22.0\` (its install script downloads libtensorflow), or use device 'auto', 'wasm' or 'js'.`
        : '';
  throw new DeviceError(`device '${device}' is not available: ${tried}.${hint}`, attempts);
}

/** One line for logs: what runs, and whether a GPU really does. */
export function describeDevice(r: DeviceReport): string {
  const failed = r.attempts.filter((a) => !a.ok).map((a) => `${a.device}: ${a.error ?? 'failed'}`);
  return [
    `tfjs ${r.chosen} (backend '${r.backend}', ${r.package}, GPU ${r.gpuInUse ? 'in use' : 'not in use'})`,
    ...r.notes,
    ...(failed.length ? [`not used: ${failed.join('; ')}`] : []),
  ].join('; ');
}

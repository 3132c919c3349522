/**
 * Starts onnxruntime-web on the best execution provider this page has, and says why each better one
 * was not used: WebGPU when the browser has an adapter, else wasm with SIMD, multi-threaded when the
 * page is cross-origin isolated. Asking for WebGPU by name never falls back silently: it fails.
 */
import type * as Ort from 'onnxruntime-web';
import { oneLine, WebModelError } from './errors.js';

export type OrtModule = typeof Ort;
export type ExecutionProvider = 'webgpu' | 'wasm';

export interface RuntimeOptions {
  /** 'auto' (default): WebGPU when available, else wasm. 'webgpu' fails when WebGPU cannot run the model. */
  readonly executionProvider?: 'auto' | ExecutionProvider;
  /**
   * wasm threads. Default: up to 4 (and the cores the browser reports) on a cross-origin isolated
   * page, else 1, with the reason in the report.
   */
  readonly threads?: number;
  /**
   * wasm only: run onnxruntime-web in its own worker, so a long inference never holds up the page
   * (default true where the browser has Worker; WebGPU runs on the main thread).
   */
  readonly proxy?: boolean;
  /** Where onnxruntime-web's `.wasm`/`.mjs` files are served (a URL prefix ending in '/'). */
  readonly wasmPaths?: string;
  /** onnxruntime-web modules you loaded yourself (e.g. from a CDN), instead of importing the package. */
  readonly ort?: { readonly wasm?: OrtModule; readonly webgpu?: OrtModule };
}

export interface RuntimeReport {
  readonly executionProvider: ExecutionProvider;
  readonly simd: true;
  readonly threads: number;
  /** wasm: whether onnxruntime-web runs in its own worker (off the main thread). */
  readonly proxy?: boolean;
  /** Why fewer threads than asked or than the machine has (e.g. not cross-origin isolated). */
  readonly threadsReason?: string;
  /** Each better provider that was tried and why it was not used. */
  readonly tried: readonly { readonly provider: ExecutionProvider; readonly error: string }[];
}

/** The smallest module using a v128 instruction (i8x16.popcnt): valid only where wasm has SIMD. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
  11,
]);

export interface Runtime {
  readonly ort: OrtModule;
  readonly report: RuntimeReport;
  create(model: Uint8Array, what: string): Promise<Ort.InferenceSession>;
  /**
   * WebGPU: settles with the reason once the GPU device is lost (GPU process crash, driver reset,
   * `destroy()`). Runs in flight would otherwise never settle, so they race it. Never settles on wasm.
   */
  readonly lost: Promise<string>;
}

/** The runtime for a set of models: `probe` must create every session the model needs (WebGPU can fail on any). */
export async function startRuntime(
  options: RuntimeOptions,
  probe: (runtime: Runtime) => Promise<void>,
): Promise<Runtime> {
  const asked = options.executionProvider ?? 'auto';
  if (asked !== 'auto' && asked !== 'webgpu' && asked !== 'wasm')
    throw new WebModelError(
      `executionProvider must be 'auto', 'webgpu' or 'wasm', got ${JSON.stringify(asked)}`,
      'input',
    );
  if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(SIMD_PROBE))
    throw new WebModelError(
      "this browser's WebAssembly has no SIMD, which onnxruntime-web needs (Chrome 91+, Firefox 89+, Safari 16.4+)",
      'runtime',
    );
  const tried: { provider: ExecutionProvider; error: string }[] = [];
  if (asked !== 'wasm') {
    const problem = await webgpuProblem();
    if (problem === undefined) {
      try {
        const ort = options.ort?.webgpu ?? (await import('onnxruntime-web/webgpu'));
        // Only once a device was lost on this page: the getter makes a device when there is none.
        const device = lostDevices.size === 0 ? undefined : await currentDevice(ort);
        const lost = device && lostDevices.get(device);
        if (lost !== undefined)
          throw new Error(
            `its device was lost earlier on this page (${lost}); reload the page to use WebGPU again`,
          );
        configure(ort, options, 1);
        const runtime = makeRuntime(ort, 'webgpu', {
          executionProvider: 'webgpu',
          simd: true,
          threads: 1,
          tried,
        });
        await probe(runtime);
        return { ...runtime, lost: deviceLost(ort) };
      } catch (e) {
        if (asked === 'webgpu')
          throw new WebModelError(`WebGPU could not run the model: ${oneLine(e)}`, 'runtime', { cause: e });
        tried.push({ provider: 'webgpu', error: oneLine(e) });
      }
    } else {
      if (asked === 'webgpu') throw new WebModelError(`executionProvider 'webgpu': ${problem}`, 'runtime');
      tried.push({ provider: 'webgpu', error: problem });
    }
  }
  const { threads, threadsReason } = chooseThreads(options.threads);
  const ort = options.ort?.wasm ?? (await import('onnxruntime-web/wasm'));
  configure(ort, options, threads);
  const proxy = options.proxy ?? typeof Worker !== 'undefined';
  ort.env.wasm.proxy = proxy;
  const runtime = makeRuntime(ort, 'wasm', {
    executionProvider: 'wasm',
    simd: true,
    threads,
    proxy,
    ...(threadsReason ? { threadsReason } : {}),
    tried,
  });
  await probe(runtime);
  return runtime;
}

/**
 * Why each lost WebGPU device was lost: onnxruntime-web may keep handing out a lost device, and a
 * load on it must not pick WebGPU (its runs would all fail). Keyed by device, not module: a device
 * onnxruntime-web made afresh (after the last session was released) is usable again.
 */
const lostDevices = new Map<object, string>();

/**
 * A loss that never comes (wasm has no device to lose). One per runtime, not shared: a model's
 * reaction to it must be collected with the model.
 */
const never = () => new Promise<string>(() => {});

/** The GPU device onnxruntime-web's next session would run on. */
async function currentDevice(ort: OrtModule): Promise<object | undefined> {
  return (await Promise.resolve(ort.env.webgpu.device).catch(() => undefined)) as object | undefined;
}

/** The reason, once the device onnxruntime-web's sessions run on is lost (never, if it has none). */
async function deviceLost(ort: OrtModule): Promise<string> {
  type Lost = { message?: string; reason?: string };
  const device = (await currentDevice(ort)) as { lost?: Promise<Lost> } | undefined;
  if (!device?.lost) return never();
  const info = await device.lost;
  const reason = oneLine([info.reason, info.message].filter(Boolean).join(': ') || 'no reason given');
  lostDevices.set(device, reason);
  return reason;
}

async function webgpuProblem(): Promise<string | undefined> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } })?.gpu;
  if (!gpu)
    return 'navigator.gpu is missing (this browser has no WebGPU, or the page is not a secure context)';
  try {
    return (await gpu.requestAdapter()) ? undefined : 'the browser found no WebGPU adapter (no usable GPU)';
  } catch (e) {
    return `requesting a WebGPU adapter failed (${oneLine(e)})`;
  }
}

function chooseThreads(asked: number | undefined): { threads: number; threadsReason?: string } {
  if (asked !== undefined && !(Number.isInteger(asked) && asked >= 1))
    throw new WebModelError(`threads must be a positive integer, got ${JSON.stringify(asked)}`, 'input');
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  const wanted = asked ?? Math.max(1, Math.min(4, cores));
  if (wanted > 1 && !globalThis.crossOriginIsolated)
    return {
      threads: 1,
      threadsReason:
        'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    };
  if (asked === undefined && cores <= 1) return { threads: 1, threadsReason: 'the browser reports one core' };
  return { threads: wanted };
}

function configure(ort: OrtModule, options: RuntimeOptions, threads: number): void {
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
}

function makeRuntime(ort: OrtModule, provider: ExecutionProvider, report: RuntimeReport): Runtime {
  return {
    ort,
    report,
    lost: never(),
    async create(model, what) {
      try {
        return await ort.InferenceSession.create(model, {
          executionProviders: [provider],
          graphOptimizationLevel: 'all',
        });
      } catch (e) {
        throw new WebModelError(
          `${what}: onnxruntime-web (${provider}) could not load it: ${oneLine(e)}`,
          'runtime',
          {
            cause: e,
          },
        );
      }
    },
  };
}

/**
 * onnxruntime-node sessions: resolves the device, reports every provider tried and the one used.
 * onnxruntime-node throws at session creation when the CUDA libraries are missing, even with the
 * CPU provider listed after CUDA, so each provider is tried in a session of its own.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import {
  CUDA_REQUIREMENT,
  type DeviceAttempt,
  DeviceError,
  type DeviceReport,
  type OnnxDevice,
  oneLine,
  providerPlan,
} from './device.js';

export interface SessionOptions {
  readonly device?: OnnxDevice;
  /** Threads inside one op (onnxruntime's intra-op pool); default: onnxruntime's choice (all cores). */
  readonly threads?: number;
  readonly optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** CUDA device index. */
  readonly deviceId?: number;
}

export interface OnnxSession {
  readonly session: InferenceSession;
  readonly device: DeviceReport;
}

type Ort = typeof import('onnxruntime-node');
let ortModule: Promise<Ort> | undefined;

/** Loaded on first use so that importing this package has no side effects. */
export function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

function sessionOptions(provider: 'cuda' | 'cpu', o: SessionOptions): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider === 'cuda' ? { name: 'cuda', deviceId: o.deviceId ?? 0 } : 'cpu'],
    graphOptimizationLevel: o.optimization ?? 'all',
    ...(o.threads !== undefined ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
    logSeverityLevel: 3,
  };
}

const CUDA_LIBRARY: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'libonnxruntime_providers_cuda.so',
  win32: 'onnxruntime_providers_cuda.dll',
};

/**
 * Why the CUDA provider cannot load, found without asking onnxruntime (whose failed attempt also
 * writes an error log): the provider library that its install script downloads is not there.
 */
export function missingCudaProvider(): string | undefined {
  const lib = CUDA_LIBRARY[process.platform];
  if (!lib) return `onnxruntime-node has no CUDA provider on ${process.platform}`;
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined; // Unusual layout: let onnxruntime itself try and report.
  }
  const bin = join(root, 'bin');
  const dirs = existsSync(bin) ? readdirSync(bin).filter((d) => d.startsWith('napi-v')) : [];
  const found = dirs.some((d) => existsSync(join(bin, d, process.platform, process.arch, lib)));
  return found ? undefined : `the CUDA execution provider is not installed (no ${lib} in ${bin})`;
}

/** Creates a session for an ONNX model on the requested device. */
export async function createSession(model: Uint8Array, options: SessionOptions = {}): Promise<OnnxSession> {
  const requested = options.device ?? 'auto';
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new DeviceError(`threads must be a positive integer, got ${options.threads}`, []);
  }
  const ort = await loadOrt();
  const attempts: DeviceAttempt[] = [];
  for (const provider of providerPlan(requested)) {
    const missing = provider === 'cuda' ? missingCudaProvider() : undefined;
    if (missing) {
      attempts.push({ provider, ok: false, error: missing });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(model, sessionOptions(provider, options));
      attempts.push({ provider, ok: true });
      return { session, device: { requested, provider, attempts } };
    } catch (e) {
      attempts.push({ provider, ok: false, error: oneLine(e) });
    }
  }
  const last = attempts.at(-1)!;
  if (requested === 'cuda') {
    throw new DeviceError(`device 'cuda' is not available: ${last.error}. ${CUDA_REQUIREMENT}`, attempts);
  }
  throw new DeviceError(
    `could not create an onnxruntime session: ${attempts.map((a) => `${a.provider}: ${a.error}`).join('; ')}`,
    attempts,
  );
}

/**
 * Which onnxruntime execution provider to use. A requested GPU that cannot be had is an error,
 * never a silent fallback; `auto` may fall back, and says why.
 */
export type OnnxDevice = 'auto' | 'cuda' | 'cpu';

export const ONNX_DEVICES: readonly OnnxDevice[] = ['auto', 'cuda', 'cpu'];

/** What CUDA onnxruntime-node 1.30 needs; quoted in every CUDA error. */
export const CUDA_REQUIREMENT =
  'onnxruntime-node 1.30 needs an NVIDIA driver with CUDA 12.x and cuDNN 9, and its CUDA provider ' +
  "(downloaded by onnxruntime-node's install script: in node_modules/onnxruntime-node run " +
  "'ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js')";

export interface DeviceAttempt {
  readonly provider: 'cuda' | 'cpu';
  readonly ok: boolean;
  /** Why it failed, one line. */
  readonly error?: string;
}

export interface DeviceReport {
  readonly requested: OnnxDevice;
  /** The provider the session runs on. */
  readonly provider: 'cuda' | 'cpu';
  readonly attempts: readonly DeviceAttempt[];
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

export function parseDevice(value: string): OnnxDevice {
  if (!(ONNX_DEVICES as readonly string[]).includes(value)) {
    throw new DeviceError(`device must be one of ${ONNX_DEVICES.join(', ')}, got '${value}'`, []);
  }
  return value as OnnxDevice;
}

/** Providers to try, in order, for a requested device. */
export function providerPlan(device: OnnxDevice): ('cuda' | 'cpu')[] {
  return device === 'auto' ? ['cuda', 'cpu'] : [device];
}

/** One line describing a report, for logs and `siamese doctor`. */
export function describeDevice(r: DeviceReport): string {
  const failed = r.attempts.filter((a) => !a.ok).map((a) => `${a.provider}: ${a.error}`);
  return `onnxruntime ${r.provider} (requested ${r.requested})${failed.length ? `; not used: ${failed.join('; ')}` : ''}`;
}

export function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim().slice(0, 400);
}

/**
 * Quantization arithmetic: uint8 asymmetric activations, int8 symmetric per-channel weights, int32
 * biases. Scales are rounded to float32 first, since that is what the model stores and onnxruntime
 * multiplies by.
 */

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface ActivationParams {
  /** float32 scale. */
  readonly scale: number;
  /** uint8 zero point: the code of 0.0. */
  readonly zeroPoint: number;
}

/** Weights use [-127, 127]: symmetric, so -128 never appears and zero points are 0. */
export const WEIGHT_MAX = 127;

/**
 * uint8 parameters for values in `r`. The range is widened to include 0 and the zero point is an
 * integer, so 0.0 (padding, Relu's floor) is exactly representable.
 */
export function activationParams(r: Range): ActivationParams {
  if (!Number.isFinite(r.min) || !Number.isFinite(r.max) || r.min > r.max) {
    throw new Error(`activation range [${r.min}, ${r.max}] is not a finite interval`);
  }
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  // An all-zero tensor: any positive scale represents it exactly.
  const scale = hi > lo ? Math.fround((hi - lo) / 255) : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/** Per-channel int8 weights along `axis`, scale max|w_c| / 127 (1 for an all-zero channel). */
export function quantizeWeight(
  w: Float32Array,
  dims: readonly number[],
  axis: number,
): { readonly data: Int8Array; readonly scales: Float32Array } {
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, d) => a * d, 1);
  const channelOf = (i: number): number => Math.floor(i / inner) % channels;
  const peak = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) peak[channelOf(i)] = Math.max(peak[channelOf(i)]!, Math.abs(w[i]!));
  const scales = Float32Array.from(peak, (p) => (p > 0 ? p / WEIGHT_MAX : 1));
  const data = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const q = Math.round(w[i]! / scales[channelOf(i)]!);
    data[i] = Math.max(-WEIGHT_MAX, Math.min(WEIGHT_MAX, q));
  }
  return { data, scales };
}

const INT32_MAX = 2 ** 31 - 1;

/** int32 bias with scale s_x * s_w[c] per channel: what the integer kernels add to their accumulators. */
export function quantizeBias(
  b: Float32Array,
  inputScale: number,
  weightScales: Float32Array,
): { readonly data: Int32Array; readonly scales: Float32Array } {
  const scales = Float32Array.from(weightScales, (s) => inputScale * s);
  const data = Int32Array.from(b, (v, c) => {
    const q = Math.round(v / scales[c]!);
    return Math.max(-INT32_MAX, Math.min(INT32_MAX, q));
  });
  return { data, scales };
}

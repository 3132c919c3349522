/**
 * From core's Preprocessing to decode options (size, channels, fill or letterbox with pad colour),
 * and from decoded 8-bit HWC pixels to normalized float32 CHW planes: `(v / 255 - mean) / std`.
 */
import { checkPreprocessing, defaultPreprocessing, type Preprocessing } from '@siamese/core';
import type { DecodedImage, DecodeOptions } from '../decode.js';
import { datasetError } from '../errors.js';

/** Preprocessing checked for this package: 1 or 3 channels, valid mean/std/padColor. */
export function checkedPreprocessing(p: Preprocessing): Preprocessing {
  const problem = checkPreprocessing(p);
  if (problem) throw datasetError('options', problem);
  if (p.channels !== 1 && p.channels !== 3) {
    throw datasetError(
      'options',
      `preprocessing.channels must be 1 (grayscale) or 3 (RGB) for images, got ${p.channels}`,
    );
  }
  return p;
}

/**
 * The preprocessing for a size and channel count, with core's defaults (ImageNet mean/std for RGB,
 * their average for grayscale, `fill`), overridden by `overrides`.
 */
export function preprocessingFor(
  channels: 1 | 3,
  height: number,
  width: number,
  overrides: Partial<Omit<Preprocessing, 'channels' | 'height' | 'width'>> = {},
): Preprocessing {
  return checkedPreprocessing({ ...defaultPreprocessing({ channels, height, width }), ...overrides });
}

export function decodeOptionsFor(
  p: Preprocessing,
  extra: { readonly background?: readonly number[]; readonly pixelLimit?: number } = {},
): DecodeOptions {
  checkedPreprocessing(p);
  return {
    channels: p.channels as 1 | 3,
    width: p.width,
    height: p.height,
    resize: p.resize,
    padColor: p.padColor,
    ...(extra.background ? { background: extra.background } : {}),
    ...(extra.pixelLimit !== undefined ? { pixelLimit: extra.pixelLimit } : {}),
  };
}

/** 8-bit HWC → float CHW in [0, 1], written into `out` at `offset` (a fresh array by default). */
export function toPlanar(image: DecodedImage, out?: Float32Array, offset = 0): Float32Array {
  const { width, height, channels, data } = image;
  const hw = width * height;
  const dst = out ?? new Float32Array(channels * hw);
  if (channels === 1) {
    for (let i = 0; i < hw; i++) dst[offset + i] = (data[i] as number) / 255;
    return dst;
  }
  for (let c = 0; c < channels; c++) {
    const base = offset + c * hw;
    for (let i = 0, j = c; i < hw; i++, j += channels) dst[base + i] = (data[j] as number) / 255;
  }
  return dst;
}

/** 8-bit HWC → normalized float CHW in one pass: `(v / 255 - mean[c]) / std[c]` (evaluation's hot path). */
export function toPlanarNormalized(
  image: DecodedImage,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset = 0,
): Float32Array {
  const { width, height, channels, data } = image;
  const hw = width * height;
  for (let c = 0; c < channels; c++) {
    const scale = 1 / (255 * (std[c] ?? 1));
    const shift = (mean[c] ?? 0) / (std[c] ?? 1);
    const base = offset + c * hw;
    for (let i = 0, j = c; i < hw; i++, j += channels) out[base + i] = (data[j] as number) * scale - shift;
  }
  return out;
}

/** In place: `(v - mean[c]) / std[c]` over the CHW planes starting at `offset`. */
export function normalize(
  planes: Float32Array,
  channels: number,
  hw: number,
  mean: readonly number[],
  std: readonly number[],
  offset = 0,
): Float32Array {
  for (let c = 0; c < channels; c++) {
    const m = mean[c] ?? 0;
    const inv = 1 / (std[c] ?? 1);
    const end = offset + (c + 1) * hw;
    for (let i = offset + c * hw; i < end; i++) planes[i] = ((planes[i] as number) - m) * inv;
  }
  return planes;
}

/** The inverse of normalize, back to [0, 1] (for looking at a batch). */
export function denormalize(
  planes: Float32Array,
  channels: number,
  hw: number,
  mean: readonly number[],
  std: readonly number[],
): Float32Array {
  const out = new Float32Array(planes.length);
  for (let c = 0; c < channels; c++) {
    const m = mean[c] ?? 0;
    const s = std[c] ?? 1;
    for (let i = c * hw; i < (c + 1) * hw; i++) out[i] = (planes[i] as number) * s + m;
  }
  return out;
}

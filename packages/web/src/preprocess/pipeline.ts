/**
 * One image to its slice of the model's input, the same in the worker and on the main thread:
 * pixels over white, resized as sharp does, placed (fill or letterbox), grayscale and normalised.
 * Self-contained: the steps come in as `steps`, so the worker's source can embed this function.
 */
import type { readRgba } from './draw.js';
import type { rgbaToTensor } from './pixels.js';
import type { placeRgba } from './place.js';
import type { resizeLikeSharp } from './resize.js';
import type { sniffFormat } from './sniff.js';

export interface Steps {
  readonly read: typeof readRgba;
  readonly resize: typeof resizeLikeSharp;
  readonly place: typeof placeRgba;
  readonly toTensor: typeof rgbaToTensor;
  readonly sniff: typeof sniffFormat;
}

export interface TensorSpec {
  readonly channels: number;
  readonly width: number;
  readonly height: number;
  readonly resize: 'fill' | 'letterbox';
  readonly padColor: readonly number[];
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Images with more pixels are refused before they are read. */
  readonly maxPixels: number;
}

export function bitmapToTensor(
  bitmap: ImageBitmap,
  format: 'jpeg' | 'webp' | 'other',
  spec: TensorSpec,
  steps: Steps,
): Float32Array {
  if (bitmap.width * bitmap.height > spec.maxPixels)
    throw new RangeError(
      `${bitmap.width}x${bitmap.height} is more pixels than the limit of ${spec.maxPixels} (maxPixels)`,
    );
  const pixels = steps.read(bitmap);
  const target = { width: spec.width, height: spec.height, fit: spec.resize };
  const resized = steps.resize(pixels.data, pixels.width, pixels.height, target, format);
  const placed = steps.place(resized, spec.width, spec.height, spec.padColor);
  const tensor = new Float32Array(spec.channels * spec.width * spec.height);
  steps.toTensor(placed, spec.width * spec.height, spec.channels, spec.mean, spec.std, tensor, 0);
  return tensor;
}

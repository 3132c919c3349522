/**
 * Augmentation for lighting, angle and size changes, applied to float32 CHW pixels in [0, 1]: the
 * affine warp (with the optional flip folded into the same matrix), then contrast and brightness
 * jitter. Applied to training images only: the loader never augments evaluation batches.
 */
import type { Random } from '@siamese/core';
import { affineMatrix, invertAffine } from './affine.js';
import type { AugmentOptions } from './augment-options.js';
import { type AugmentParams, isGeometric, sampleAugment } from './augment-params.js';
import { adjustLighting } from './lighting.js';
import { warpAffine } from './warp-affine.js';

/**
 * Applies drawn parameters to one CHW image in [0, 1] (`channels` x `height` x `width` values of
 * `image` from `offset`), in place. Identity parameters leave the values untouched.
 */
export function applyAugment(
  image: Float32Array,
  channels: number,
  width: number,
  height: number,
  params: AugmentParams,
  fill: 'edge' | readonly number[] = 'edge',
  offset = 0,
  scratch?: Float32Array,
): void {
  applyGeometry(image, channels, width, height, params, fill, offset, scratch);
  adjustLighting(image, channels * width * height, params.contrast, params.brightness, offset);
}

/** The geometric part of applyAugment only (flip and the affine warp), in place. */
export function applyGeometry(
  image: Float32Array,
  channels: number,
  width: number,
  height: number,
  params: AugmentParams,
  fill: 'edge' | readonly number[] = 'edge',
  offset = 0,
  scratch?: Float32Array,
): void {
  if (!isGeometric(params)) return;
  const n = channels * width * height;
  const src = scratch && scratch.length >= n ? scratch : new Float32Array(n);
  src.set(image.subarray(offset, offset + n));
  const inverse = invertAffine(affineMatrix(params, width, height));
  warpAffine(src, image, channels, width, height, inverse, fill, offset);
}

/** Draws and applies: a convenience for one image; returns what was drawn. */
export function augmentImage(
  image: Float32Array,
  channels: number,
  width: number,
  height: number,
  options: AugmentOptions,
  rng: Random,
): AugmentParams {
  const params = sampleAugment(options, rng);
  applyAugment(image, channels, width, height, params, options.fill ?? 'edge');
  return params;
}

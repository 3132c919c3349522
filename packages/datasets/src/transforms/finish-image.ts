/**
 * Finishes one decoded 8-bit HWC image into its slot of a float32 NCHW batch: planar, augmented by
 * drawn parameters, normalized by the preprocessing's mean and std. An image with nothing to
 * augment takes one fused pass.
 */
import type { Preprocessing } from '@siamese/core';
import type { DecodedImage } from '../decode.js';
import { applyGeometry } from './augment.js';
import { type AugmentParams, isGeometric } from './augment-params.js';
import { lightingNormalize } from './lighting.js';
import { toPlanar, toPlanarNormalized } from './resize-normalize.js';

export class ImageFinisher {
  private readonly scratch: Float32Array;

  constructor(
    /** [C, H, W] of one image. */
    private readonly shape: readonly [number, number, number],
    private readonly preprocessing: Preprocessing,
    private readonly fill: 'edge' | readonly number[],
  ) {
    this.scratch = new Float32Array(shape[0] * shape[1] * shape[2]);
  }

  /** Writes `image` into `out` from `offset`, augmented by `params` (IDENTITY: not augmented). */
  finish(image: DecodedImage, params: AugmentParams, out: Float32Array, offset: number): void {
    const [channels, height, width] = this.shape;
    const { mean, std } = this.preprocessing;
    if (!isGeometric(params) && params.contrast === 1 && params.brightness === 0) {
      toPlanarNormalized(image, mean, std, out, offset);
      return;
    }
    toPlanar(image, out, offset);
    applyGeometry(out, channels, width, height, params, this.fill, offset, this.scratch);
    lightingNormalize(out, channels, width * height, params.contrast, params.brightness, mean, std, offset);
  }
}

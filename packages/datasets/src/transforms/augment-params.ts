/**
 * What is drawn for one image: the parameters, the identity, and the seeded draw from the options.
 * Every draw comes from core's seeded Random, a fixed number per option.
 */
import type { Random } from '@siamese/core';
import type { AugmentOptions } from './augment-options.js';

/** What was drawn for one image. */
export interface AugmentParams {
  readonly rotation: number; // radians
  readonly shearX: number;
  readonly shearY: number;
  readonly scaleX: number;
  readonly scaleY: number;
  readonly translateX: number;
  readonly translateY: number;
  readonly flip: boolean;
  readonly contrast: number; // factor, 1 = unchanged
  readonly brightness: number; // offset, 0 = unchanged
}

export const IDENTITY: AugmentParams = {
  rotation: 0,
  shearX: 0,
  shearY: 0,
  scaleX: 1,
  scaleY: 1,
  translateX: 0,
  translateY: 0,
  flip: false,
  contrast: 1,
  brightness: 0,
};

/**
 * Draws the parameters for one image. The number of draws is fixed per option (a component that
 * does not fire still consumes its draws), so one image's outcome never shifts the next one's.
 */
export function sampleAugment(o: AugmentOptions, rng: Random): AugmentParams {
  const fires = (p: number | undefined) => rng.uniform() < (p ?? 1);
  const sym = (max: number) => (rng.uniform() * 2 - 1) * max;
  let { rotation, shearX, shearY, scaleX, scaleY, translateX, translateY, flip, contrast, brightness } =
    IDENTITY;
  if (o.rotation) {
    const on = fires(o.rotation.p);
    const v = sym((o.rotation.degrees * Math.PI) / 180);
    if (on) rotation = v;
  }
  if (o.shear) {
    const on = fires(o.shear.p);
    const x = sym(o.shear.max);
    const y = sym(o.shear.max);
    if (on) [shearX, shearY] = [x, y];
  }
  if (o.scale) {
    const on = fires(o.scale.p);
    const span = o.scale.max - o.scale.min;
    const x = o.scale.min + rng.uniform() * span;
    const y = o.scale.isotropic ? x : o.scale.min + rng.uniform() * span;
    if (on) [scaleX, scaleY] = [x, y];
  }
  if (o.translate) {
    const on = fires(o.translate.p);
    const x = sym(o.translate.pixels);
    const y = sym(o.translate.pixels);
    if (on) [translateX, translateY] = [x, y];
  }
  if (o.flip) flip = fires(o.flip.p);
  if (o.contrast) {
    const on = fires(o.contrast.p);
    const v = 1 + sym(o.contrast.max);
    if (on) contrast = v;
  }
  if (o.brightness) {
    const on = fires(o.brightness.p);
    const v = sym(o.brightness.max);
    if (on) brightness = v;
  }
  return { rotation, shearX, shearY, scaleX, scaleY, translateX, translateY, flip, contrast, brightness };
}

export function isGeometric(p: AugmentParams): boolean {
  return (
    p.rotation !== 0 ||
    p.shearX !== 0 ||
    p.shearY !== 0 ||
    p.scaleX !== 1 ||
    p.scaleY !== 1 ||
    p.translateX !== 0 ||
    p.translateY !== 0 ||
    p.flip
  );
}

/**
 * What augmentation to apply: the options (each component with its probability), the published
 * presets, and their validation. Nothing here draws or touches pixels.
 */
import { datasetError } from '../errors.js';

export interface AugmentOptions {
  /** Rotation by an angle uniform in ±degrees (positive = counter-clockwise on screen). */
  readonly rotation?: { readonly degrees: number; readonly p?: number };
  /** Shear factors uniform in ±max, drawn for x and y independently. */
  readonly shear?: { readonly max: number; readonly p?: number };
  /** Scale factors uniform in [min, max], for x and y independently (`isotropic`: one for both). */
  readonly scale?: {
    readonly min: number;
    readonly max: number;
    readonly isotropic?: boolean;
    readonly p?: number;
  };
  /** Translation uniform in ±pixels, x and y independently. */
  readonly translate?: { readonly pixels: number; readonly p?: number };
  /** Mirror left-right. */
  readonly flip?: { readonly p: number };
  /** Multiply the deviation from the image mean by a factor uniform in [1 - max, 1 + max]. */
  readonly contrast?: { readonly max: number; readonly p?: number };
  /** Add an offset uniform in ±max (pixel values are in [0, 1]). */
  readonly brightness?: { readonly max: number; readonly p?: number };
  /** What the warp brings in from outside the image: `edge` (default) repeats the border; numbers per channel. */
  readonly fill?: 'edge' | readonly number[];
}

/**
 * Koch, Zemel & Salakhutdinov (2015)'s affine distortions for Omniglot: rotation ±10°, shear ±0.3,
 * scale 0.8-1.2, translation ±2 px, each component applied with probability 0.5.
 */
export const KOCH_AFFINE: AugmentOptions = {
  rotation: { degrees: 10, p: 0.5 },
  shear: { max: 0.3, p: 0.5 },
  scale: { min: 0.8, max: 1.2, p: 0.5 },
  translate: { pixels: 2, p: 0.5 },
};

/** Mild lighting jitter for photographs, to combine with the affine preset. */
export const LIGHTING: AugmentOptions = {
  brightness: { max: 0.1, p: 0.5 },
  contrast: { max: 0.2, p: 0.5 },
};

/** Throws a one-line error naming the bad option. */
export function checkAugment(o: AugmentOptions): void {
  const prob = (name: string, p: number | undefined) => {
    if (p !== undefined && !(p >= 0 && p <= 1))
      throw datasetError('options', `augment.${name}.p must be in [0, 1], got ${p}`);
  };
  const nonNeg = (name: string, v: number) => {
    if (!(v >= 0 && Number.isFinite(v)))
      throw datasetError('options', `augment.${name} must be a finite number >= 0, got ${v}`);
  };
  // Each transform's magnitude field must be >= 0 and its probability in [0, 1].
  const magnitudes = [
    ['rotation', o.rotation, 'degrees'],
    ['shear', o.shear, 'max'],
    ['translate', o.translate, 'pixels'],
    ['contrast', o.contrast, 'max'],
    ['brightness', o.brightness, 'max'],
  ] as const;
  for (const [name, t, field] of magnitudes) {
    if (!t) continue;
    nonNeg(`${name}.${field}`, (t as Record<string, number>)[field]!);
    prob(name, t.p);
  }
  if (o.flip) prob('flip', o.flip.p);
  if (o.scale) {
    prob('scale', o.scale.p);
    if (!(o.scale.min > 0 && o.scale.max >= o.scale.min)) {
      throw datasetError(
        'options',
        `augment.scale needs 0 < min <= max, got min ${o.scale.min}, max ${o.scale.max}`,
      );
    }
  }
}

/**
 * Augmentation for lighting, angle and size changes, on float32 CHW pixels in [0, 1]: one affine
 * warp (rotation, shear, scale, translation combined into a single matrix about the image centre,
 * inverse-mapped with bilinear sampling), an optional horizontal flip folded into the same matrix,
 * then contrast and brightness jitter. Every draw comes from core's seeded Random. Applied to
 * training images only: the loader never augments evaluation batches.
 */
import type { Random } from '@siamese/core';
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

/** A 2x3 affine matrix [a, b, c, d, e, f]: x' = a x + b y + c, y' = d x + e y + f. */
export type Affine = readonly [number, number, number, number, number, number];

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

/**
 * The forward map, in pixel-centre coordinates about the image centre:
 * translate · rotate · shear · scale · flip. Image y points down, so a positive angle turns the
 * picture counter-clockwise as seen on screen.
 */
export function affineMatrix(p: AugmentParams, width: number, height: number): Affine {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(p.rotation);
  const sin = Math.sin(p.rotation);
  const fx = p.flip ? -1 : 1;
  // M = R · Sh · S · F, with R = [[cos, sin], [-sin, cos]] (counter-clockwise on screen),
  // Sh = [[1, shx], [shy, 1]], S = diag(sx, sy), F = diag(fx, 1).
  const sh00 = p.scaleX * fx;
  const sh01 = p.shearX * p.scaleY;
  const sh10 = p.shearY * p.scaleX * fx;
  const sh11 = p.scaleY;
  const a = cos * sh00 + sin * sh10;
  const b = cos * sh01 + sin * sh11;
  const d = -sin * sh00 + cos * sh10;
  const e = -sin * sh01 + cos * sh11;
  const c = cx + p.translateX - a * cx - b * cy;
  const f = cy + p.translateY - d * cx - e * cy;
  return [a, b, c, d, e, f];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12)
    throw datasetError('options', 'augment: the affine map is singular');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * dst(x, y) = src(M⁻¹ (x, y)) for every channel, bilinear; `inverse` maps destination pixels to
 * source coordinates. Outside the source: the border pixel (`edge`) or the fill value per channel.
 */
export function warpAffine(
  src: Float32Array,
  dst: Float32Array,
  channels: number,
  width: number,
  height: number,
  inverse: Affine,
  fill: 'edge' | readonly number[] = 'edge',
  offset = 0,
): void {
  const [a, b, c, d, e, f] = inverse;
  const hw = width * height;
  const edge = fill === 'edge';
  const maxX = width - 1;
  const maxY = height - 1;
  for (let y = 0; y < height; y++) {
    let sx = b * y + c;
    let sy = e * y + f;
    for (let x = 0; x < width; x++, sx += a, sy += d) {
      const o = offset + y * width + x;
      if (sx >= 0 && sy >= 0 && sx < maxX && sy < maxY) {
        // Fast path: all four neighbours inside (most pixels).
        const x0 = sx | 0;
        const y0 = sy | 0;
        const wx = sx - x0;
        const wy = sy - y0;
        const w00 = (1 - wx) * (1 - wy);
        const w10 = wx * (1 - wy);
        const w01 = (1 - wx) * wy;
        const w11 = wx * wy;
        let i = y0 * width + x0;
        for (let ch = 0, to = o; ch < channels; ch++, i += hw, to += hw) {
          dst[to] =
            (src[i] as number) * w00 +
            (src[i + 1] as number) * w10 +
            (src[i + width] as number) * w01 +
            (src[i + width + 1] as number) * w11;
        }
        continue;
      }
      let fx = sx;
      let fy = sy;
      if (!(fx >= 0 && fx <= maxX && fy >= 0 && fy <= maxY)) {
        if (!edge && (fx <= -1 || fx >= width || fy <= -1 || fy >= height)) {
          for (let ch = 0; ch < channels; ch++)
            dst[o + ch * hw] = (fill as readonly number[])[ch] ?? (fill as readonly number[])[0] ?? 0;
          continue;
        }
        if (edge) {
          fx = Math.min(Math.max(fx, 0), maxX);
          fy = Math.min(Math.max(fy, 0), maxY);
        }
      }
      // Bilinear over the (up to) four neighbours; outside ones take the fill value.
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const wx = fx - x0;
      const wy = fy - y0;
      const x1 = x0 + 1;
      const y1 = y0 + 1;
      const in00 = x0 >= 0 && y0 >= 0;
      const in10 = x1 <= maxX && y0 >= 0;
      const in01 = x0 >= 0 && y1 <= maxY;
      const in11 = x1 <= maxX && y1 <= maxY;
      const w00 = (1 - wx) * (1 - wy);
      const w10 = wx * (1 - wy);
      const w01 = (1 - wx) * wy;
      const w11 = wx * wy;
      const i00 = y0 * width + x0;
      for (let ch = 0; ch < channels; ch++) {
        const base = ch * hw;
        const out = edge ? 0 : ((fill as readonly number[])[ch] ?? (fill as readonly number[])[0] ?? 0);
        const v00 = in00 ? (src[base + i00] as number) : out;
        const v10 = in10 && w10 !== 0 ? (src[base + i00 + 1] as number) : out;
        const v01 = in01 && w01 !== 0 ? (src[base + i00 + width] as number) : out;
        const v11 = in11 && w11 !== 0 ? (src[base + i00 + width + 1] as number) : out;
        dst[o + base] = v00 * w00 + v10 * w10 + v01 * w01 + v11 * w11;
      }
    }
  }
}

/** In place: contrast about the image mean, then brightness, clamped to [0, 1]. */
export function adjustLighting(
  planes: Float32Array,
  length: number,
  contrast: number,
  brightness: number,
  offset = 0,
): void {
  if (contrast === 1 && brightness === 0) return;
  let mean = 0;
  if (contrast !== 1) {
    for (let i = offset; i < offset + length; i++) mean += planes[i] as number;
    mean /= length;
  }
  const add = mean * (1 - contrast) + brightness;
  for (let i = offset; i < offset + length; i++) {
    let v = (planes[i] as number) * contrast + add;
    if (v < 0) v = 0;
    else if (v > 1) v = 1;
    planes[i] = v;
  }
}

/**
 * In place, one pass: contrast and brightness (clamped to [0, 1]) then `(v - mean[c]) / std[c]`.
 * The same result as adjustLighting followed by normalize, for the loader's hot path.
 */
export function lightingNormalize(
  planes: Float32Array,
  channels: number,
  hw: number,
  contrast: number,
  brightness: number,
  mean: readonly number[],
  std: readonly number[],
  offset = 0,
): void {
  const length = channels * hw;
  let avg = 0;
  if (contrast !== 1) {
    for (let i = offset; i < offset + length; i++) avg += planes[i] as number;
    avg /= length;
  }
  const add = avg * (1 - contrast) + brightness;
  for (let c = 0; c < channels; c++) {
    const m = mean[c] ?? 0;
    const inv = 1 / (std[c] ?? 1);
    const end = offset + (c + 1) * hw;
    for (let i = offset + c * hw; i < end; i++) {
      let v = (planes[i] as number) * contrast + add;
      if (v < 0) v = 0;
      else if (v > 1) v = 1;
      planes[i] = (v - m) * inv;
    }
  }
}

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

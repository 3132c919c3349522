/**
 * The geometric parameters as one 2x3 affine matrix (rotation, shear, scale, translation and flip
 * combined about the image centre), and its inverse for mapping destination pixels back.
 */
import { datasetError } from '../errors.js';
import type { AugmentParams } from './augment-params.js';

/** A 2x3 affine matrix [a, b, c, d, e, f]: x' = a x + b y + c, y' = d x + e y + f. */
export type Affine = readonly [number, number, number, number, number, number];

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

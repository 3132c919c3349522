import { Random } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { affineMatrix, invertAffine } from './affine.js';
import { applyAugment, augmentImage } from './augment.js';
import { checkAugment, KOCH_AFFINE } from './augment-options.js';
import { type AugmentParams, IDENTITY, sampleAugment } from './augment-params.js';
import { adjustLighting, lightingNormalize } from './lighting.js';
import { normalize } from './resize-normalize.js';

/** A w x h single-channel image, 0 everywhere but 1 at (x, y). */
function dot(w: number, h: number, x: number, y: number): Float32Array {
  const img = new Float32Array(w * h);
  img[y * w + x] = 1;
  return img;
}
const argmax = (a: Float32Array) => a.reduce((best, v, i) => (v > (a[best] as number) ? i : best), 0);
const params = (p: Partial<AugmentParams>): AugmentParams => ({ ...IDENTITY, ...p });

describe('augmentation', () => {
  it('is the identity when every probability is 0', () => {
    const rng = new Random(1);
    const img = Float32Array.from({ length: 3 * 20 * 20 }, (_, i) => (i % 17) / 17);
    const copy = img.slice();
    const zero = {
      rotation: { degrees: 30, p: 0 },
      shear: { max: 0.3, p: 0 },
      scale: { min: 0.5, max: 2, p: 0 },
      translate: { pixels: 5, p: 0 },
      flip: { p: 0 },
      contrast: { max: 0.5, p: 0 },
      brightness: { max: 0.5, p: 0 },
    };
    for (let k = 0; k < 20; k++) {
      expect(augmentImage(img, 3, 20, 20, zero, rng)).toEqual(IDENTITY);
    }
    expect(img).toEqual(copy);
  });

  it('a 90° rotation moves a known pixel counter-clockwise about the centre', () => {
    // 9x9, centre (4, 4); the dot 2 to the right ends up 2 above.
    const img = dot(9, 9, 6, 4);
    applyAugment(img, 1, 9, 9, params({ rotation: Math.PI / 2 }), [0]);
    expect(argmax(img)).toBe(2 * 9 + 4);
    expect(img[2 * 9 + 4]).toBeCloseTo(1, 5);
    // -90° the other way: below.
    const back = dot(9, 9, 6, 4);
    applyAugment(back, 1, 9, 9, params({ rotation: -Math.PI / 2 }), [0]);
    expect(argmax(back)).toBe(6 * 9 + 4);
  });

  it('translation, scale, shear and flip move pixels where the matrix says', () => {
    const t = dot(9, 9, 4, 4);
    applyAugment(t, 1, 9, 9, params({ translateX: 2, translateY: -1 }), [0]);
    expect(argmax(t)).toBe(3 * 9 + 6);
    const s = dot(9, 9, 5, 4); // 1 right of centre; scale 2 → 2 right (bilinear spreads it)
    applyAugment(s, 1, 9, 9, params({ scaleX: 2, scaleY: 2 }), [0]);
    expect(s[4 * 9 + 6]).toBeCloseTo(1, 5);
    const f = dot(9, 9, 1, 2);
    applyAugment(f, 1, 9, 9, params({ flip: true }), [0]);
    expect(argmax(f)).toBe(2 * 9 + 7);
    // Shear x by 0.5: a point 2 below centre moves 1 right.
    const m = affineMatrix(params({ shearX: 0.5 }), 9, 9);
    expect([m[0] * 4 + m[1] * 6 + m[2], m[3] * 4 + m[4] * 6 + m[5]]).toEqual([5, 6]);
  });

  it('the inverse matrix undoes the forward one', () => {
    const rng = new Random(3);
    for (let k = 0; k < 10; k++) {
      const p = sampleAugment({ ...KOCH_AFFINE, flip: { p: 0.5 } }, rng);
      const m = affineMatrix(p, 105, 105);
      const inv = invertAffine(m);
      const [x, y] = [17, 80];
      const fx = m[0] * x + m[1] * y + m[2];
      const fy = m[3] * x + m[4] * y + m[5];
      expect(inv[0] * fx + inv[1] * fy + inv[2]).toBeCloseTo(x, 9);
      expect(inv[3] * fx + inv[4] * fy + inv[5]).toBeCloseTo(y, 9);
    }
  });

  it("Koch's preset draws within its ranges, each component about half the time", () => {
    const rng = new Random(7);
    let rotated = 0;
    let scaled = 0;
    const n = 2000;
    for (let k = 0; k < n; k++) {
      const p = sampleAugment(KOCH_AFFINE, rng);
      expect(Math.abs(p.rotation)).toBeLessThanOrEqual((10 * Math.PI) / 180);
      expect(Math.abs(p.shearX)).toBeLessThanOrEqual(0.3);
      expect(Math.abs(p.shearY)).toBeLessThanOrEqual(0.3);
      for (const s of [p.scaleX, p.scaleY]) expect(s >= 0.8 && s <= 1.2).toBe(true);
      expect(Math.abs(p.translateX)).toBeLessThanOrEqual(2);
      expect(p.flip).toBe(false);
      expect([p.contrast, p.brightness]).toEqual([1, 0]);
      if (p.rotation !== 0) rotated++;
      if (p.scaleX !== 1) scaled++;
    }
    expect(rotated / n).toBeGreaterThan(0.45);
    expect(rotated / n).toBeLessThan(0.55);
    expect(scaled / n).toBeGreaterThan(0.45);
    expect(scaled / n).toBeLessThan(0.55);
  });

  it('is seeded: same seed, same draws; another seed, others', () => {
    const draw = (seed: number) =>
      Array.from(
        { length: 5 },
        (
          (rng) => () =>
            sampleAugment(KOCH_AFFINE, rng)
        )(new Random(seed)),
      );
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('contrast scales about the mean, brightness shifts, both clamp to [0, 1]', () => {
    const img = Float32Array.from([0.2, 0.4, 0.6, 0.8]);
    applyAugment(img, 1, 2, 2, params({ contrast: 2 }));
    expect(Array.from(img).map((v) => +v.toFixed(5))).toEqual([0, 0.3, 0.7, 1]);
    const b = Float32Array.from([0.2, 0.95]);
    applyAugment(b, 1, 2, 1, params({ brightness: 0.1 }));
    expect(Array.from(b).map((v) => +v.toFixed(5))).toEqual([0.3, 1]);
  });

  it("the loader's fused lighting + normalize equals the two steps", () => {
    const a = Float32Array.from({ length: 2 * 16 }, (_, i) => ((i * 37) % 29) / 28);
    const b = a.slice();
    adjustLighting(a, a.length, 1.3, -0.1);
    normalize(a, 2, 16, [0.4, 0.5], [0.2, 0.3]);
    lightingNormalize(b, 2, 16, 1.3, -0.1, [0.4, 0.5], [0.2, 0.3]);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i] as number, 5);
  });

  it('edge fill repeats the border; a fill value fills', () => {
    const img = Float32Array.from({ length: 25 }, () => 0.5);
    applyAugment(img, 1, 5, 5, params({ translateX: 3 }), [1]);
    expect(img[0]).toBe(1);
    const edge = Float32Array.from({ length: 25 }, () => 0.5);
    applyAugment(edge, 1, 5, 5, params({ translateX: 3 }), 'edge');
    expect(edge[0]).toBe(0.5);
  });

  it('rejects bad options in one line', () => {
    expect(() => checkAugment({ rotation: { degrees: 10, p: 2 } })).toThrow(
      'dataset: augment.rotation.p must be in [0, 1], got 2',
    );
    expect(() => checkAugment({ scale: { min: 1.2, max: 0.8 } })).toThrow(
      'dataset: augment.scale needs 0 < min <= max, got min 1.2, max 0.8',
    );
    expect(() => checkAugment({ brightness: { max: -1 } })).toThrow(
      'augment.brightness.max must be a finite number >= 0, got -1',
    );
  });
});

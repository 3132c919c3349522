import { GRAY_MEAN, GRAY_STD, IMAGENET_MEAN, IMAGENET_STD } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import {
  decodeOptionsFor,
  denormalize,
  normalize,
  preprocessingFor,
  toPlanar,
  toPlanarNormalized,
} from './resize-normalize.js';

describe('resize and normalize', () => {
  it('takes core defaults: ImageNet mean/std for RGB, their average for grayscale', () => {
    expect(preprocessingFor(3, 224, 224)).toMatchObject({
      mean: [...IMAGENET_MEAN],
      std: [...IMAGENET_STD],
      resize: 'fill',
    });
    expect(preprocessingFor(1, 105, 105)).toMatchObject({ mean: [...GRAY_MEAN], std: [...GRAY_STD] });
    const p = preprocessingFor(3, 32, 48, { resize: 'letterbox', padColor: [1, 1, 1] });
    expect(decodeOptionsFor(p, { pixelLimit: 1000 })).toEqual({
      channels: 3,
      width: 48,
      height: 32,
      resize: 'letterbox',
      padColor: [1, 1, 1],
      pixelLimit: 1000,
    });
  });

  it('rejects what images cannot be', () => {
    expect(() => preprocessingFor(2 as 1, 8, 8)).toThrow(
      'dataset: preprocessing.channels must be 1 (grayscale) or 3 (RGB) for images, got 2',
    );
    expect(() => preprocessingFor(1, 0, 8)).toThrow(
      'dataset: preprocessing.height must be a positive integer, got 0',
    );
    expect(() => preprocessingFor(1, 8, 8, { std: [0] })).toThrow('preprocessing.std must be positive');
  });

  it('the one-pass planar + normalize equals the two steps', () => {
    const img = { width: 3, height: 2, channels: 3, data: Uint8Array.from({ length: 18 }, (_, i) => i * 14) };
    const two = normalize(toPlanar(img), 3, 6, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
    const one = toPlanarNormalized(img, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], new Float32Array(18));
    for (let i = 0; i < 18; i++) expect(one[i]).toBeCloseTo(two[i] as number, 5);
  });

  it('turns HWC bytes into CHW floats, then (v - mean) / std, and back', () => {
    const img = { width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 51, 0, 255, 102]) };
    const planes = toPlanar(img);
    expect(Array.from(planes)).toEqual([1, 0, 0, 1, Math.fround(0.2), Math.fround(0.4)]);
    normalize(planes, 3, 2, [0.5, 0.5, 0], [0.5, 0.25, 0.2]);
    expect(Array.from(planes).map((v) => +v.toFixed(5))).toEqual([1, -1, -2, 2, 1, 2]);
    expect(
      Array.from(denormalize(planes, 3, 2, [0.5, 0.5, 0], [0.5, 0.25, 0.2])).map((v) => +v.toFixed(5)),
    ).toEqual([1, 0, 0, 1, 0.2, 0.4]);
  });
});

/** Quantization arithmetic: 0.0 exactly representable, per-channel weight scales, int32 bias scales. */
import { describe, expect, it } from 'vitest';
import { activationParams, quantizeBias, quantizeWeight, WEIGHT_MAX } from './params.js';

const dequantize = (q: number, p: { scale: number; zeroPoint: number }) => (q - p.zeroPoint) * p.scale;

describe('activationParams (uint8, asymmetric)', () => {
  it('spreads 256 codes over the range with 0.0 on a code', () => {
    const p = activationParams({ min: -1, max: 3 });
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64);
    expect(dequantize(p.zeroPoint, p)).toBe(0);
    expect(dequantize(0, p)).toBeCloseTo(-1, 1);
    expect(dequantize(255, p)).toBeCloseTo(3, 1);
  });

  it('widens a range to include 0: zero point 0 after a Relu, 255 for negative values', () => {
    expect(activationParams({ min: 0.5, max: 2 })).toEqual({ scale: Math.fround(2 / 255), zeroPoint: 0 });
    expect(activationParams({ min: -3, max: -1 })).toEqual({ scale: Math.fround(3 / 255), zeroPoint: 255 });
    expect(activationParams({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('refuses a range that is not a finite interval', () => {
    expect(() => activationParams({ min: Number.NaN, max: 1 })).toThrow(/not a finite interval/);
    expect(() => activationParams({ min: 2, max: 1 })).toThrow(/not a finite interval/);
  });
});

describe('quantizeWeight (int8, symmetric, per channel)', () => {
  it('maps each output channel (axis 0) of a conv weight to [-127, 127] by its own peak', () => {
    const w = Float32Array.of(0.5, -1, 0.25, 8, 4, -2, 0, 0, 0);
    const { data, scales } = quantizeWeight(w, [3, 3, 1, 1], 0);
    expect(Array.from(scales)).toEqual([Math.fround(1 / 127), Math.fround(8 / 127), 1]);
    expect(Array.from(data)).toEqual([64, -WEIGHT_MAX, 32, WEIGHT_MAX, 64, -32, 0, 0, 0]);
  });

  it('uses the column axis (1) of a MatMul weight [K, N]', () => {
    const { data, scales } = quantizeWeight(Float32Array.of(1, 10, -2, 5), [2, 2], 1);
    expect(Array.from(scales)).toEqual([Math.fround(2 / 127), Math.fround(10 / 127)]);
    expect(Array.from(data)).toEqual([64, WEIGHT_MAX, -WEIGHT_MAX, 64]);
  });
});

describe('quantizeBias (int32)', () => {
  it('uses scale s_x * s_w[c] and rounds to the nearest code', () => {
    const { data, scales } = quantizeBias(Float32Array.of(1, -0.5), 0.5, Float32Array.of(0.01, 0.1));
    expect(Array.from(scales)).toEqual([Math.fround(0.005), Math.fround(0.05)]);
    expect(Array.from(data)).toEqual([200, -10]);
  });
});

/** Grayscale as sharp's `b-w` computes it for `siamese compare`, and the normalisation. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { rgbaToTensor } from './pixels.js';

describe('rgbaToTensor', () => {
  it("turns colour into sharp's b-w grey exactly, then normalises", async () => {
    const n = 4096;
    const rgb = Buffer.alloc(n * 3);
    let s = 7;
    for (let i = 0; i < rgb.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      rgb[i] = s >>> 24;
    }
    for (let v = 0; v < 256; v++) rgb.fill(v, v * 3, v * 3 + 3); // every grey level exactly
    const grey = await sharp(rgb, { raw: { width: n, height: 1, channels: 3 } })
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    const rgba = new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++)
      rgba.set([rgb[i * 3] as number, rgb[i * 3 + 1] as number, rgb[i * 3 + 2] as number, 255], i * 4);
    const out = new Float32Array(n);
    rgbaToTensor(rgba, n, 1, [0.5], [0.25], out, 0);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const level = ((out[i] as number) * 0.25 + 0.5) * 255;
      worst = Math.max(worst, Math.abs(level - (grey[i] as number)));
      if (i < 256) expect(Math.round(level)).toBe(i);
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it('writes RGB planes normalised per channel', () => {
    const rgba = new Uint8ClampedArray([255, 0, 51, 255, 0, 255, 102, 255]);
    const out = new Float32Array(6);
    rgbaToTensor(rgba, 2, 3, [0.5, 0.5, 0.2], [0.5, 0.25, 0.2], out, 0);
    expect(Array.from(out, (v) => Number(v.toFixed(5)))).toEqual([1, -1, -2, 2, 0, 1]);
  });
});

/**
 * The browser's resize against sharp's, in Node: a file is decoded at full size (what
 * createImageBitmap gives the page), resized by `resizeLikeSharp` and placed by `placeRgba`, and
 * compared with sharp resizing the same file the way @siamese/datasets decodes it for
 * `siamese compare`. PNG and the other lossless paths must agree to one 8-bit level; sharp's JPEG
 * and WebP shrink-on-load run inside their decoders, which the page cannot call, so they are
 * approximated and held to a mean difference below one level.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { placeRgba } from './place.js';
import { resizeLikeSharp } from './resize.js';
import { sniffFormat } from './sniff.js';

/** A smooth image with edges and colour: gradients, a disc, stripes. */
function scene(width: number, height: number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inDisc = (x - width * 0.4) ** 2 + (y - height * 0.55) ** 2 < (Math.min(width, height) * 0.3) ** 2;
      const stripe = Math.floor(x / Math.max(2, width / 17)) % 2 === 0;
      px[i] = inDisc ? 230 : Math.round((255 * x) / width);
      px[i + 1] = stripe ? 40 : Math.round((255 * y) / height);
      px[i + 2] = inDisc ? 20 : 128 + Math.round(100 * Math.sin(x / 5));
    }
  }
  return px;
}

async function compare(
  file: Buffer,
  target: { width: number; height: number; fit: 'fill' | 'letterbox' },
): Promise<{ max: number; mean: number; meanLuma: number }> {
  const decoded = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgba = new Uint8ClampedArray(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length);
  const format = sniffFormat(new Uint8Array(file.subarray(0, 12)));
  const resized = resizeLikeSharp(rgba, decoded.info.width, decoded.info.height, target, format);
  const ours = placeRgba(resized, target.width, target.height, [0, 0, 0]);
  const theirs = await sharp(file)
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .resize(target.width, target.height, {
      fit: target.fit === 'letterbox' ? 'contain' : 'fill',
      background: { r: 0, g: 0, b: 0 },
    })
    .toColourspace('srgb')
    .raw()
    .toBuffer();
  const luma = (a: ArrayLike<number>, i: number, n: number) =>
    0.299 * (a[i * n] as number) + 0.587 * (a[i * n + 1] as number) + 0.114 * (a[i * n + 2] as number);
  let max = 0;
  let sum = 0;
  let sumLuma = 0;
  const pixels = target.width * target.height;
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs((ours[i * 4 + c] as number) - (theirs[i * 3 + c] as number));
      max = Math.max(max, d);
      sum += d;
    }
    sumLuma += Math.abs(luma(ours, i, 4) - luma(theirs, i, 3));
  }
  return { max, mean: sum / (pixels * 3), meanLuma: sumLuma / pixels };
}

const raw = (w: number, h: number) => sharp(scene(w, h), { raw: { width: w, height: h, channels: 3 } });

describe('resizeLikeSharp', () => {
  const lossless: [string, number, number, number, number, 'fill' | 'letterbox'][] = [
    ['same size', 28, 28, 28, 28, 'fill'],
    ['x1.5 down', 42, 42, 28, 28, 'fill'],
    ['x2.5 by x1.5, fill', 70, 42, 28, 28, 'fill'],
    ['x3 down', 84, 84, 28, 28, 'fill'],
    ['x9.7 down (box shrink, then Lanczos)', 300, 272, 31, 28, 'fill'],
    ['letterbox, wide', 200, 90, 64, 64, 'letterbox'],
    ['letterbox, tall, odd margins', 37, 100, 48, 32, 'letterbox'],
    ['enlarge', 20, 20, 28, 28, 'fill'],
    ['enlarge one axis, reduce the other', 60, 14, 28, 28, 'fill'],
    ['224 from a photo-sized image', 1024, 768, 224, 224, 'fill'],
  ];
  for (const [name, w, h, tw, th, fit] of lossless) {
    it(`matches sharp within one level on PNG: ${name}`, async () => {
      const png = await raw(w, h).png().toBuffer();
      const { max } = await compare(png, { width: tw, height: th, fit });
      expect(max).toBeLessThanOrEqual(1);
    });
  }

  for (const [name, w, h, tw, th] of [
    ['JPEG shrink-on-load x2', 120, 120, 28, 28],
    ['JPEG shrink-on-load x4', 1024, 768, 224, 160],
    ['JPEG below the shrink-on-load factor', 70, 42, 28, 28],
  ] as const) {
    // Luma within a level on average; colour (4:2:0 chroma, scaled inside the decoder) within 2.5.
    it(`comes within a level of luma on average on ${name}`, async () => {
      const jpeg = await raw(w, h).jpeg({ quality: 90 }).toBuffer();
      const { mean, meanLuma } = await compare(jpeg, { width: tw, height: th, fit: 'fill' });
      expect(meanLuma).toBeLessThan(1);
      expect(mean).toBeLessThan(2.5);
    });
  }

  it('comes within a level on average on WebP shrink-on-load', async () => {
    const webp = await raw(400, 300).webp({ lossless: true }).toBuffer();
    const { mean } = await compare(webp, { width: 96, height: 96, fit: 'fill' });
    expect(mean).toBeLessThan(1);
  });
});

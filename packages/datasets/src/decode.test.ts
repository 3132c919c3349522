import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeImage, decodeImageBytes, decodeItem, probeImage, verifyImage } from './decode.js';
import { DatasetError } from './errors.js';

const FOLDER = fileURLToPath(new URL('./__fixtures__/folder/', import.meta.url));
const BROKEN = fileURLToPath(new URL('./__fixtures__/broken/bad/', import.meta.url));

const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
/** Channel c of pixel (x, y) in an HWC image. */
const px = (img: { width: number; channels: number; data: Uint8Array }, x: number, y: number, c = 0) =>
  img.data[(y * img.width + x) * img.channels + c] as number;

describe('decodeImage', () => {
  it.each([
    ['circle/circle-1.png', 'png'],
    ['circle/circle-2.jpg', 'jpeg'],
    ['circle/circle-3.webp', 'webp'],
    ['square/square-1.gif', 'gif'],
    ['square/square-2.tiff', 'tiff'],
  ])('decodes %s (%s) to the size and channels asked', async (file, format) => {
    expect((await probeImage(FOLDER + file)).format).toBe(format);
    const rgb = await decodeImage(FOLDER + file, { channels: 3, width: 12, height: 10 });
    expect([rgb.width, rgb.height, rgb.channels, rgb.data.length]).toEqual([12, 10, 3, 360]);
    // White background in the corner, the coloured shape in the middle.
    expect(px(rgb, 0, 0, 0)).toBeGreaterThan(230);
    const centre = [0, 1, 2].map((c) => px(rgb, 6, 5, c));
    expect(Math.max(...centre) - Math.min(...centre)).toBeGreaterThan(80);
    const gray = await decodeImage(FOLDER + file, { channels: 1, width: 12, height: 10 });
    expect([gray.channels, gray.data.length]).toEqual([1, 120]);
  });

  it('reduces a 16-bit PNG to 8 bits by value, not by truncation', async () => {
    const info = await probeImage(`${FOLDER}square/square-3-16bit.png`);
    expect(info.bitDepth).toBe(16);
    const img = await decodeImage(`${FOLDER}square/square-3-16bit.png`, {
      channels: 1,
      width: 16,
      height: 16,
    });
    expect(mean(img.data.subarray(0, 16 * 7))).toBe(32); // 0x2020
    expect(mean(img.data.subarray(16 * 9))).toBe(224); // 0xe0e0
  });

  it('composites alpha over the background (white by default)', async () => {
    const file = `${FOLDER}triangle/triangle-1-alpha.png`;
    expect((await probeImage(file)).hasAlpha).toBe(true);
    const white = await decodeImage(file, { channels: 3, width: 16, height: 16 });
    expect([0, 1, 2].map((c) => px(white, 14, 8, c))).toEqual([255, 255, 255]);
    expect(px(white, 2, 8, 2)).toBeGreaterThan(180); // opaque blue stays blue
    const black = await decodeImage(file, { channels: 3, width: 16, height: 16, background: [0] });
    expect([0, 1, 2].map((c) => px(black, 14, 8, c))).toEqual([0, 0, 0]);
  });

  it('applies the EXIF orientation (stored 32x16, displayed 16x32, top half black)', async () => {
    const file = `${FOLDER}triangle/triangle-2-exif6.jpg`;
    const info = await probeImage(file);
    expect([info.width, info.height]).toEqual([16, 32]);
    const img = await decodeImage(file, { channels: 1, width: 16, height: 32 });
    expect(mean(img.data.subarray(0, 16 * 12))).toBeLessThan(10);
    expect(mean(img.data.subarray(16 * 20))).toBeGreaterThan(245);
  });

  it('letterboxes with the pad colour and keeps the aspect ratio', async () => {
    // The 16x32 (displayed) EXIF image into 32x32: 8-pixel bars left and right.
    const img = await decodeImage(`${FOLDER}triangle/triangle-2-exif6.jpg`, {
      channels: 3,
      width: 32,
      height: 32,
      resize: 'letterbox',
      padColor: [0, 1, 0],
    });
    expect([0, 1, 2].map((c) => px(img, 2, 16, c))).toEqual([0, 255, 0]);
    expect([0, 1, 2].map((c) => px(img, 29, 16, c))).toEqual([0, 255, 0]);
    expect(px(img, 16, 2, 0)).toBeLessThan(20); // the image itself: black top
    expect(px(img, 16, 29, 0)).toBeGreaterThan(235); // white bottom
    const filled = await decodeImage(`${FOLDER}triangle/triangle-2-exif6.jpg`, {
      channels: 3,
      width: 32,
      height: 32,
    });
    expect(px(filled, 2, 2, 1)).toBeLessThan(20); // fill stretches: no green bar
  });

  it('converts grayscale to RGB and RGB to grayscale', async () => {
    const rgb = await decodeImage(`${FOLDER}square/square-3-16bit.png`, {
      channels: 3,
      width: 16,
      height: 16,
    });
    expect([px(rgb, 0, 0, 0), px(rgb, 0, 0, 1), px(rgb, 0, 0, 2)]).toEqual([32, 32, 32]);
    const gray = await decodeImage(`${FOLDER}circle/circle-1.png`, { channels: 1, width: 24, height: 24 });
    expect(gray.channels).toBe(1);
    expect(px(gray, 0, 0)).toBe(255); // white stays white
    expect(px(gray, 12, 12)).toBeLessThan(160); // the red disc is darker
  });

  it('resizes in-memory pixels and passes through ones already at the size', async () => {
    const pixels = { width: 2, height: 2, channels: 1, data: Uint8Array.from([0, 255, 255, 0]) };
    expect(await decodeImage(pixels, { channels: 1, width: 2, height: 2 })).toBe(pixels);
    const big = await decodeImage(pixels, { channels: 3, width: 4, height: 4 });
    expect([big.width, big.height, big.channels]).toEqual([4, 4, 3]);
    const item = { id: 'mem/0', pixels, label: 0, className: 'a' };
    expect((await decodeItem(item, { channels: 1, width: 6, height: 6 })).data.length).toBe(36);
  });
});

describe('bad input', () => {
  const fail = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(DatasetError);
    const message = (e as DatasetError).message;
    expect(message).not.toContain('\n');
    return e as DatasetError;
  };
  const opts = { channels: 1, width: 8, height: 8 } as const;

  it('names a zero-byte file', async () => {
    const e = await fail(decodeImage(`${BROKEN}zero.png`, opts));
    expect(e.message).toBe(`dataset: ${BROKEN}zero.png: empty file (0 bytes), not an image`);
    expect([e.code, e.file]).toEqual(['invalid-image', `${BROKEN}zero.png`]);
    expect((await fail(probeImage(`${BROKEN}zero.png`))).message).toContain('empty file (0 bytes)');
  });

  it('names a text file called .jpg', async () => {
    const e = await fail(decodeImage(`${BROKEN}text.jpg`, opts));
    expect(e.message).toMatch(
      new RegExp(
        `^dataset: ${BROKEN}text\\.jpg: not an image sharp can read \\(38 bytes; .*unsupported image format\\)$`,
      ),
    );
  });

  it('names a truncated PNG (the header is fine, the pixels are not)', async () => {
    await expect(probeImage(`${BROKEN}truncated.png`)).resolves.toMatchObject({ format: 'png' });
    const e = await fail(verifyImage(`${BROKEN}truncated.png`));
    expect(e.message).toMatch(
      new RegExp(`^dataset: ${BROKEN}truncated\\.png: corrupt or truncated image \\(.+\\)$`),
    );
  });

  it('refuses an image over the pixel limit, naming the file and the option', async () => {
    const e = await fail(decodeImage(`${FOLDER}circle/circle-1.png`, { ...opts, pixelLimit: 500 }));
    expect(e.code).toBe('pixel-limit');
    expect(e.message).toBe(
      `dataset: ${FOLDER}circle/circle-1.png: 24x24 = 576 pixels is over the pixel limit of 500 (option pixelLimit); raise it if the image is genuine`,
    );
    expect((await fail(probeImage(`${FOLDER}circle/circle-1.png`, { pixelLimit: 500 }))).code).toBe(
      'pixel-limit',
    );
  });

  it('names a file that does not exist', async () => {
    const e = await fail(decodeImage(`${FOLDER}nope.png`, opts));
    expect(e.message).toBe(`dataset: ${FOLDER}nope.png: file does not exist`);
  });

  it('calls a JPEG cut before its image data truncated, whatever libvips says ("missing SOS marker")', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'siamese-decode-'));
    try {
      const jpeg = await readFile(`${FOLDER}circle/circle-2.jpg`);
      for (const end of [jpeg.indexOf(Buffer.from([0xff, 0xda])), 20, jpeg.length - 50]) {
        const cut = join(tmp, `cut-${end}.jpg`);
        await writeFile(cut, jpeg.subarray(0, end));
        for (const read of [() => verifyImage(cut), () => decodeImage(cut, opts)]) {
          const e = await fail(read());
          expect([e.code, e.message]).toEqual([
            'invalid-image',
            expect.stringContaining(`${cut}: corrupt or truncated image (`),
          ]);
        }
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('names a folder given as an image', async () => {
    for (const read of [() => decodeImage(`${FOLDER}circle`, opts), () => probeImage(`${FOLDER}circle`)]) {
      const e = await fail(read());
      expect(e.message).toBe(`dataset: '${FOLDER}circle' is a folder, not an image file`);
      expect([e.code, e.file]).toEqual(['not-found', `${FOLDER}circle`]);
    }
  });

  it('rejects bad decode options in one line', async () => {
    await expect(
      decodeImage(`${FOLDER}circle/circle-1.png`, { channels: 2 as 1, width: 8, height: 8 }),
    ).rejects.toThrow('dataset: decode: channels must be 1 (grayscale) or 3 (RGB), got 2');
    await expect(
      decodeImage(`${FOLDER}circle/circle-1.png`, { channels: 1, width: 0, height: 8 }),
    ).rejects.toThrow('decode: width must be a positive integer, got 0');
  });
});

describe('decodeImageBytes', () => {
  it('decodes bytes in memory exactly as decodeImage decodes the file', async () => {
    const file = `${FOLDER}circle/circle-2.jpg`;
    const o = { channels: 3, width: 12, height: 10 } as const;
    const fromBytes = await decodeImageBytes(await readFile(file), o);
    const fromFile = await decodeImage(file, o);
    expect(fromBytes.data).toEqual(fromFile.data);
  });

  it.each([
    ['zero.png', /^dataset: empty \(0 bytes\), not an image$/],
    ['truncated.png', /^dataset: corrupt or truncated image \(/],
    ['text.jpg', /^dataset: not an image sharp can read \(\d+ bytes; /],
  ])('says what is wrong with %s, naming no file', async (name, message) => {
    const bytes = await readFile(BROKEN + name);
    const e = await decodeImageBytes(bytes, { channels: 1, width: 8, height: 8 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as DatasetError).message).toMatch(message);
    expect((e as DatasetError).file).toBeUndefined();
    expect((e as DatasetError).message).not.toContain(BROKEN);
  });

  it('refuses an image over the pixel limit before decoding it', async () => {
    const bytes = await readFile(`${FOLDER}circle/circle-1.png`);
    const e = await decodeImageBytes(bytes, { channels: 1, width: 8, height: 8, pixelLimit: 16 }).catch(
      (x: unknown) => x,
    );
    expect((e as DatasetError).code).toBe('pixel-limit');
  });
});

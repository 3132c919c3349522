/**
 * Image decoding with sharp (libvips): PNG, JPEG, WebP, GIF (first frame), TIFF; EXIF orientation
 * applied, 16-bit samples reduced to 8, alpha composited over a background, a pixel limit against
 * decompression bombs, grayscale or RGB, resized by `fill` or `letterbox`. sharp is loaded on
 * first use, never on import, and decodes on libuv's thread pool: many decodes run at once.
 */
import type { Sharp, default as SharpFn } from 'sharp';
import type { Item, RawPixels } from './dataset.js';
import { describeBytesFailure, describeFailure } from './decode-failure.js';
import { DatasetError, datasetError, oneLine } from './errors.js';

/** 8192 x 8192: far above any training image, far below what exhausts memory. */
export const DEFAULT_PIXEL_LIMIT = 8192 * 8192;

/** File name endings the sources treat as images (compared lower-cased). */
export const IMAGE_EXTENSIONS: readonly string[] = [
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
];

export interface DecodeOptions {
  /** 1 (grayscale) or 3 (RGB). */
  readonly channels: 1 | 3;
  readonly width: number;
  readonly height: number;
  /** `fill` stretches to the size; `letterbox` keeps the aspect ratio and pads with `padColor`. Default fill. */
  readonly resize?: 'fill' | 'letterbox';
  /** Letterbox padding in [0, 1] per channel (or one value). Default black. */
  readonly padColor?: readonly number[];
  /** What transparent pixels are composited over, in [0, 1] (one value or RGB). Default white. */
  readonly background?: readonly number[];
  /** Images with more pixels (width x height, before resizing) are refused. Default DEFAULT_PIXEL_LIMIT. */
  readonly pixelLimit?: number;
}

/** Decoded pixels: 8-bit, interleaved (HWC), exactly `channels` x `height` x `width`. */
export type DecodedImage = RawPixels;

/** What the header says, without decoding the pixels. */
export interface ImageInfo {
  readonly format: string;
  /** After EXIF orientation. */
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly bitDepth: 8 | 16 | 32;
  readonly hasAlpha: boolean;
}

type SharpModule = typeof SharpFn;
let sharpModule: Promise<SharpModule> | undefined;

/** Loads sharp once; a missing native build is one clear line. */
export function loadSharp(): Promise<SharpModule> {
  sharpModule ??= import('sharp').then(
    (m) => m.default,
    (e: unknown) => {
      sharpModule = undefined;
      throw new DatasetError(
        `dataset: the image decoder 'sharp' could not be loaded (${oneLine(String((e as Error)?.message ?? e))}); install it with 'pnpm add sharp'`,
        'not-found',
        undefined,
        { cause: e },
      );
    },
  );
  return sharpModule;
}

function toRgb(values: readonly number[] | undefined, fallback: number): { r: number; g: number; b: number } {
  const v = values ?? [fallback];
  const at = (i: number) => Math.round(Math.min(1, Math.max(0, v[i] ?? v[0] ?? fallback)) * 255);
  return { r: at(0), g: at(1), b: at(2) };
}

function checkOptions(o: DecodeOptions): void {
  if (o.channels !== 1 && o.channels !== 3) {
    throw datasetError(
      'options',
      `decode: channels must be 1 (grayscale) or 3 (RGB), got ${JSON.stringify(o.channels)}`,
    );
  }
  for (const k of ['width', 'height'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) {
      throw datasetError('options', `decode: ${k} must be a positive integer, got ${JSON.stringify(o[k])}`);
    }
  }
}

/** Reads the header only: format, size after EXIF orientation. Throws a DatasetError naming the file. */
export async function probeImage(file: string, options: { pixelLimit?: number } = {}): Promise<ImageInfo> {
  const sharp = await loadSharp();
  const pixelLimit = options.pixelLimit ?? DEFAULT_PIXEL_LIMIT;
  try {
    const m = await sharp(file, { limitInputPixels: pixelLimit }).metadata();
    if (!m.format || !m.width || !m.height) throw new Error('no image size in the header');
    if (m.width * m.height > pixelLimit) throw new Error('Input image exceeds pixel limit');
    const swap = m.orientation !== undefined && m.orientation >= 5;
    return {
      format: m.format,
      width: swap ? m.height : m.width,
      height: swap ? m.width : m.height,
      channels: m.channels ?? 0,
      bitDepth:
        m.depth === 'ushort' || m.depth === 'short' ? 16 : m.depth === 'float' || m.depth === 'uint' ? 32 : 8,
      hasAlpha: Boolean(m.hasAlpha),
    };
  } catch (e) {
    throw await describeFailure(file, e, pixelLimit, sharp);
  }
}

function pipeline(sharp: SharpModule, input: string | Uint8Array | RawPixels, o: DecodeOptions): Sharp {
  const pixelLimit = o.pixelLimit ?? DEFAULT_PIXEL_LIMIT;
  const image =
    typeof input === 'string' || input instanceof Uint8Array
      ? sharp(input, { limitInputPixels: pixelLimit, autoOrient: true, failOn: 'warning' })
      : sharp(input.data, {
          raw: { width: input.width, height: input.height, channels: input.channels as 1 | 2 | 3 | 4 },
        });
  return image
    .flatten({ background: toRgb(o.background, 1) })
    .resize(o.width, o.height, {
      fit: o.resize === 'letterbox' ? 'contain' : 'fill',
      background: toRgb(o.padColor, 0),
    })
    .toColourspace(o.channels === 1 ? 'b-w' : 'srgb')
    .raw({ depth: 'uchar' });
}

/** Runs the pipeline and checks that it gave the size and channels asked for. */
async function run(
  sharp: SharpModule,
  input: string | Uint8Array | RawPixels,
  o: DecodeOptions,
): Promise<DecodedImage> {
  const { data, info } = await pipeline(sharp, input, o).toBuffer({ resolveWithObject: true });
  if (info.width !== o.width || info.height !== o.height || info.channels !== o.channels) {
    throw new Error(
      `decoded to ${info.width}x${info.height}x${info.channels}, expected ${o.width}x${o.height}x${o.channels}`,
    );
  }
  return {
    width: info.width,
    height: info.height,
    channels: info.channels,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

/**
 * Decodes a file (or resizes in-memory pixels) to `channels` x `height` x `width`, 8-bit HWC.
 * Every failure is a DatasetError whose message names the file.
 */
export async function decodeImage(input: string | RawPixels, options: DecodeOptions): Promise<DecodedImage> {
  checkOptions(options);
  const o = options;
  if (
    typeof input !== 'string' &&
    input.width === o.width &&
    input.height === o.height &&
    input.channels === o.channels
  ) {
    return input; // already what was asked (MNIST at 28x28)
  }
  const sharp = await loadSharp();
  try {
    return await run(sharp, input, o);
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    if (typeof input !== 'string') {
      throw datasetError(
        'invalid-image',
        `in-memory pixels could not be resized (${oneLine(String((e as Error).message))})`,
        undefined,
        e,
      );
    }
    throw await describeFailure(input, e, o.pixelLimit ?? DEFAULT_PIXEL_LIMIT, sharp);
  }
}

/**
 * Decodes an encoded image held in memory (an HTTP upload, a blob from a database) exactly as
 * decodeImage decodes a file: same formats, orientation, pixel limit and resizing. Failures are
 * DatasetErrors without a file (`dataset: corrupt or truncated image (...)`): the caller names
 * where the bytes came from.
 */
export async function decodeImageBytes(bytes: Uint8Array, options: DecodeOptions): Promise<DecodedImage> {
  checkOptions(options);
  const sharp = await loadSharp();
  const o = options;
  const pixelLimit = o.pixelLimit ?? DEFAULT_PIXEL_LIMIT;
  try {
    if (bytes.length === 0) throw new Error('empty input');
    return await run(sharp, bytes, o);
  } catch (e) {
    throw await describeBytesFailure(bytes, e, pixelLimit, sharp);
  }
}

/** Decodes one dataset item: its file, or its in-memory pixels (errors then name the item id). */
export async function decodeItem(item: Item, options: DecodeOptions): Promise<DecodedImage> {
  if (item.path !== undefined) return decodeImage(item.path, options);
  if (item.pixels) {
    try {
      return await decodeImage(item.pixels, options);
    } catch (e) {
      if (e instanceof DatasetError && e.file === undefined) {
        throw datasetError(e.code, e.message.replace(/^dataset: /, ''), item.id, e);
      }
      throw e;
    }
  }
  throw datasetError('not-found', 'item has neither a file nor pixels', item.id);
}

/**
 * Decodes the whole file (small output, so it is cheap) to prove it is a readable image:
 * catches truncation that a header read misses.
 */
export async function verifyImage(file: string, options: { pixelLimit?: number } = {}): Promise<void> {
  await decodeImage(file, {
    channels: 1,
    width: 8,
    height: 8,
    pixelLimit: options.pixelLimit ?? DEFAULT_PIXEL_LIMIT,
  });
}

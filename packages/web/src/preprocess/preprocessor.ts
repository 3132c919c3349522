/**
 * Images in, the model's input tensor out: in a worker with an OffscreenCanvas where the browser
 * allows it (decoding, resizing and normalising never hold up the page), else on the main thread
 * with the reason reported. Both paths run the same functions. A worker that dies, cannot start or
 * cannot run its code hands its requests to the main thread; only a bad image is the caller's error.
 */
import type { Preprocessing } from '@siamese/core/portable';
import { oneLine, WebModelError } from '../errors.js';
import { readRgba } from './draw.js';
import { bitmapToTensor, type Steps, type TensorSpec } from './pipeline.js';
import { rgbaToTensor } from './pixels.js';
import { placeRgba } from './place.js';
import { resizeLikeSharp } from './resize.js';
import { sniffFormat } from './sniff.js';
import { type WorkerReply, type WorkerRequest, workerMain } from './worker-main.js';

/** What `score`, `embed` and `search` take: anything the browser can draw, or an encoded file. */
export type ImageInput =
  | HTMLImageElement
  | SVGImageElement
  | HTMLVideoElement
  | HTMLCanvasElement
  | ImageBitmap
  | OffscreenCanvas
  | ImageData
  | Blob;

export interface PreprocessReport {
  readonly where: 'worker' | 'main thread';
  /** Why not in a worker, when not. */
  readonly reason?: string;
}

export interface PreprocessOptions {
  /** Preprocess in a worker (default true where the browser has Worker and OffscreenCanvas). */
  readonly worker?: boolean;
  /** Images with more pixels are refused (decompression bombs). Default 8192 x 8192, as the CLI. */
  readonly maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 8192 * 8192;

interface Pending {
  resolve(tensor: Float32Array): void;
  reject(error: Error): void;
  label: string;
  image: Blob | ImageBitmap;
}

/** The worker could not do the job (not the image's fault): the main thread takes over. */
class WorkerLost extends Error {}

const STEPS: Steps = {
  read: readRgba,
  resize: resizeLikeSharp,
  place: placeRgba,
  toTensor: rgbaToTensor,
  sniff: sniffFormat,
};

const WORKER_SOURCE = () =>
  `(${workerMain})(${bitmapToTensor}, { ${Object.entries(STEPS)
    .map(([name, fn]) => `${name}: ${fn}`)
    .join(', ')} });`;

export class Preprocessor {
  private worker: Worker | undefined;
  private ready: Promise<boolean> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private fallback: string | undefined;
  private readonly maxPixels: number;

  constructor(
    readonly preprocessing: Preprocessing,
    options: PreprocessOptions = {},
  ) {
    this.maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (!(Number.isInteger(this.maxPixels) && this.maxPixels >= 1))
      throw new WebModelError(
        `maxPixels must be a positive integer, got ${JSON.stringify(options.maxPixels)}`,
        'input',
      );
    if (options.worker === false) this.fallback = 'the worker was turned off (worker: false)';
    else if (typeof Worker === 'undefined') this.fallback = 'this browser has no Worker';
    else if (typeof OffscreenCanvas === 'undefined') this.fallback = 'this browser has no OffscreenCanvas';
  }

  private get spec(): TensorSpec {
    const { channels, height, width, resize, padColor, mean, std } = this.preprocessing;
    return { channels, height, width, resize, padColor, mean, std, maxPixels: this.maxPixels };
  }

  get report(): PreprocessReport {
    return this.fallback ? { where: 'main thread', reason: this.fallback } : { where: 'worker' };
  }

  /** The tensor [N, C, H, W] of `images`; `labels[i]` names image i in errors. */
  async tensor(images: readonly ImageInput[], labels: readonly string[]): Promise<Float32Array> {
    const { channels, height, width } = this.preprocessing;
    const size = channels * height * width;
    const out = new Float32Array(images.length * size);
    const parts = await Promise.all(images.map((image, i) => this.one(image, labels[i] ?? `image ${i + 1}`)));
    for (const [i, part] of parts.entries()) out.set(part, i * size);
    return out;
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.fallback ??= 'the model was disposed';
    for (const p of this.pending.values()) p.reject(new WebModelError('the model was disposed', 'input'));
    this.pending.clear();
  }

  private async one(input: ImageInput, label: string): Promise<Float32Array> {
    if (await this.startWorker()) {
      try {
        // A fresh drawable each attempt: the worker takes ownership of the bitmap it is sent.
        return await this.inWorker(await drawable(input, label), label);
      } catch (e) {
        if (!(e instanceof WorkerLost)) throw e;
      }
    }
    return this.onMainThread(await drawable(input, label), label);
  }

  private startWorker(): Promise<boolean> {
    if (this.fallback) return Promise.resolve(false);
    this.ready ??= new Promise<boolean>((resolve) => {
      let url: string | undefined;
      const done = (ok: boolean) => {
        if (url) URL.revokeObjectURL(url);
        url = undefined;
        resolve(ok);
      };
      try {
        url = URL.createObjectURL(new Blob([WORKER_SOURCE()], { type: 'text/javascript' }));
        const worker = new Worker(url);
        worker.onmessage = (e: MessageEvent<WorkerReply>) => {
          if ('ready' in e.data) done(true);
          else this.settle(e.data);
        };
        worker.onmessageerror = () =>
          this.workerFailed('a reply from the preprocessing worker could not be read');
        worker.onerror = (e) => {
          e.preventDefault();
          this.workerFailed(`the preprocessing worker failed (${oneLine(e.message || 'no message')})`);
          done(false);
        };
        this.worker = worker;
      } catch (e) {
        this.workerFailed(
          `a worker could not be started (${oneLine(e)}; a Content-Security-Policy without worker-src blob: forbids it)`,
        );
        done(false);
      }
    });
    return this.ready;
  }

  /** From now on the main thread preprocesses; requests in flight are redone there by `one`. */
  private workerFailed(reason: string): void {
    this.fallback = reason;
    this.worker?.terminate();
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new WorkerLost(reason));
    this.pending.clear();
  }

  private settle(reply: WorkerReply): void {
    if ('ready' in reply) return;
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if ('tensor' in reply) p.resolve(reply.tensor);
    else if (reply.fault === 'decode') p.reject(notAnImage(p.label, p.image, reply.error));
    else if (reply.fault === 'input') p.reject(new WebModelError(`${p.label}: ${reply.error}`, 'input'));
    else {
      // The worker's own code failed (e.g. a bundler helper missing from its source): not the image.
      const reason = `the preprocessing worker cannot run its code (${reply.error})`;
      p.reject(new WorkerLost(reason));
      this.workerFailed(reason);
    }
  }

  private inWorker(image: Blob | ImageBitmap, label: string): Promise<Float32Array> {
    const worker = this.worker;
    if (!worker) {
      if (!(image instanceof Blob)) image.close();
      return Promise.reject(new WorkerLost('no worker'));
    }
    const id = this.nextId++;
    const request: WorkerRequest = { id, image, format: 'other', spec: this.spec };
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, label, image });
      worker.postMessage(request, image instanceof Blob ? [] : [image]);
    });
  }

  private async onMainThread(image: Blob | ImageBitmap, label: string): Promise<Float32Array> {
    let bitmap: ImageBitmap;
    let format: 'jpeg' | 'webp' | 'other' = 'other';
    try {
      if (image instanceof Blob) {
        format = sniffFormat(new Uint8Array(await image.slice(0, 12).arrayBuffer()));
        bitmap = await createImageBitmap(image);
      } else bitmap = image;
    } catch (e) {
      throw notAnImage(label, image, oneLine(e));
    }
    try {
      return bitmapToTensor(bitmap, format, this.spec, STEPS);
    } catch (e) {
      throw new WebModelError(`${label}: ${oneLine(e)}`, 'input', { cause: e });
    } finally {
      bitmap.close();
    }
  }
}

function notAnImage(label: string, image: Blob | ImageBitmap, detail: string): WebModelError {
  const what = image instanceof Blob ? ` (${image.type || 'unknown type'}, ${image.size} bytes)` : '';
  return new WebModelError(`${label}: not an image the browser can decode${what}: ${detail}`, 'input');
}

/**
 * What goes to the worker: Blobs as they are (decoded there), everything else as a fresh ImageBitmap
 * (a copy: the caller's bitmap or canvas is never detached by the transfer).
 */
async function drawable(input: ImageInput, label: string): Promise<Blob | ImageBitmap> {
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    if (input.size === 0) throw new WebModelError(`${label}: the file is empty`, 'input');
    return input;
  }
  if (typeof HTMLImageElement !== 'undefined' && input instanceof HTMLImageElement) {
    if (!input.complete)
      throw new WebModelError(
        `${label}: the <img> has not finished loading (await img.decode() first)`,
        'input',
      );
    if (input.naturalWidth === 0)
      throw new WebModelError(
        `${label}: the <img> holds no image (a broken or non-image src: ${input.src.slice(0, 100)})`,
        'input',
      );
  }
  if (input === null || typeof input !== 'object')
    throw new WebModelError(
      `${label}: expected an image, canvas, ImageBitmap, ImageData or Blob, got ${input === null ? 'null' : typeof input}`,
      'input',
    );
  try {
    return await createImageBitmap(input as ImageBitmapSource);
  } catch (e) {
    throw new WebModelError(`${label}: cannot be drawn (${oneLine(e)})`, 'input');
  }
}

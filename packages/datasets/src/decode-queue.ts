/**
 * Decodes dataset items for the loader: at most `concurrency` decodes in flight (sharp runs them on
 * libuv's thread pool), one decode per image however many batches ask for it at once, and each
 * decoded 8-bit image kept in the cache under a key that includes the decode options.
 */
import type { ImageCache } from './cache.js';
import type { Dataset } from './dataset.js';
import { type DecodedImage, type DecodeOptions, decodeItem } from './decode.js';
import { datasetError } from './errors.js';

export class DecodeQueue {
  private readonly cacheKey: string;
  private readonly pending = new Map<string, Promise<DecodedImage>>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private count = 0;

  constructor(
    private readonly dataset: Dataset,
    private readonly decode: DecodeOptions,
    private readonly cache: ImageCache,
    private readonly concurrency: number,
  ) {
    this.cacheKey = JSON.stringify(decode);
  }

  /** Images decoded by sharp (cache misses that were not already being decoded). */
  get decoded(): number {
    return this.count;
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** One item decoded and resized (8-bit HWC), from the cache when it is there. */
  image(index: number): Promise<DecodedImage> {
    const item = this.dataset.items[index];
    if (!item) {
      return Promise.reject(
        datasetError(
          'options',
          `loader: item ${index} is outside '${this.dataset.name}' (${this.dataset.items.length} items)`,
        ),
      );
    }
    const key = `${this.cacheKey}|${item.path ?? `${this.dataset.name}:${item.id}`}`;
    const hit = this.cache.get(key);
    if (hit) return Promise.resolve(hit);
    const pending = this.pending.get(key);
    if (pending) return pending;
    const p = this.slot(() => decodeItem(item, this.decode)).then(
      (image) => {
        this.pending.delete(key);
        this.count++;
        if (image !== item.pixels) this.cache.set(key, image);
        return image;
      },
      (e: unknown) => {
        this.pending.delete(key);
        throw e;
      },
    );
    this.pending.set(key, p);
    return p;
  }
}

/** A least-recently-used cache of decoded images with a byte budget it never exceeds. */
import type { DecodedImage } from './decode.js';
import { datasetError } from './errors.js';

/** 256 MiB: every Omniglot image at 105x105 (about 350 MB as float, 11 KB each as 8-bit) fits twice. */
export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

export class ImageCache {
  private readonly entries = new Map<string, DecodedImage>();
  private used = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly maxBytes: number = DEFAULT_CACHE_BYTES) {
    if (!(maxBytes >= 0 && Number.isFinite(maxBytes))) {
      throw datasetError('options', `cache: maxBytes must be a finite number >= 0, got ${maxBytes}`);
    }
  }

  /** Bytes held now (pixel data); never more than maxBytes. */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): DecodedImage | undefined {
    const hit = this.entries.get(key);
    if (!hit) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-insert: Map iteration order is insertion order, so the oldest entry is the least recent.
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Stores `image` unless it alone exceeds the budget; evicts the least recently used to make room. */
  set(key: string, image: DecodedImage): boolean {
    const size = image.data.byteLength;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.used -= old.data.byteLength;
    }
    if (size > this.maxBytes) return false;
    for (const [k, v] of this.entries) {
      if (this.used + size <= this.maxBytes) break;
      this.entries.delete(k);
      this.used -= v.data.byteLength;
      this.evictions++;
    }
    this.entries.set(key, image);
    this.used += size;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }
}

/**
 * The loader: turns item indices, pairs or triplets into float32 NCHW batches (core Tensors,
 * normalized by the preprocessing), decoding ahead of the trainer. Many images decode at once
 * while the main thread finishes the ones that are done; decoded 8-bit images are cached within a
 * byte budget. Augmentation is applied to training batches only, from a seeded stream per
 * (batch, slot): the same seed gives the same batches whatever the decode timing.
 */
import type { Preprocessing, Tensor } from '@siamese/core';
import type { BatchOptions, ImageBatch, PairBatch, TripletBatch } from './batch-types.js';
import { ImageCache } from './cache.js';
import type { Dataset, Pair } from './dataset.js';
import type { DecodedImage, DecodeOptions } from './decode.js';
import { DecodeQueue } from './decode-queue.js';
import { datasetError } from './errors.js';
import { prefetched } from './prefetch.js';
import type { Triplet } from './samplers/triplets.js';
import { stream } from './shuffle.js';
import { type AugmentOptions, checkAugment } from './transforms/augment-options.js';
import { IDENTITY, sampleAugment } from './transforms/augment-params.js';
import { ImageFinisher } from './transforms/finish-image.js';
import { decodeOptionsFor } from './transforms/resize-normalize.js';

export interface LoaderOptions {
  /** Size, channels, mean/std, fill or letterbox: core's Preprocessing (stored with the model). */
  readonly preprocessing: Preprocessing;
  /** Augmentation for training batches; evaluation batches are never augmented. */
  readonly augment?: AugmentOptions;
  /** Seeds the augmentation streams. Default 0. */
  readonly seed?: number;
  /** Byte budget of the decoded-image cache (8-bit pixels). Default 256 MiB; 0 turns it off. */
  readonly cacheBytes?: number;
  /** A cache shared with other loaders (then cacheBytes is ignored). */
  readonly cache?: ImageCache;
  /** Batches decoded ahead of the one being consumed, in the batch streams. Default 2. */
  readonly prefetch?: number;
  /** Decodes in flight at once. Default 16 (libuv runs 4 at a time by default; UV_THREADPOOL_SIZE). */
  readonly concurrency?: number;
  /** Colour transparent pixels are composited over, in [0, 1]. Default white. */
  readonly background?: readonly number[];
  /** Pixel limit per image (decompression-bomb guard). */
  readonly pixelLimit?: number;
}

export interface LoaderStats {
  /** Images decoded by sharp (cache misses that were not already being decoded). */
  readonly decoded: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly cacheBytes: number;
  readonly cacheEntries: number;
  readonly evictions: number;
  /** Batches started (including those decoded ahead) and finished. */
  readonly batchesStarted: number;
  readonly batchesDone: number;
}

export class Loader {
  readonly preprocessing: Preprocessing;
  readonly cache: ImageCache;
  private readonly decode: DecodeOptions;
  private readonly decodes: DecodeQueue;
  private readonly finisher: ImageFinisher;
  private readonly prefetchDepth: number;
  private readonly seed: number;
  private readonly augment: AugmentOptions | undefined;
  private readonly pixels: number;
  private trainStep = 0;
  private counts = { batchesStarted: 0, batchesDone: 0 };

  constructor(
    readonly dataset: Dataset,
    options: LoaderOptions,
  ) {
    this.decode = decodeOptionsFor(options.preprocessing, options);
    this.preprocessing = options.preprocessing;
    this.cache = options.cache ?? new ImageCache(options.cacheBytes);
    const concurrency = options.concurrency ?? 16;
    this.prefetchDepth = options.prefetch ?? 2;
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.seed))
      throw datasetError('options', `loader: seed must be an integer, got ${options.seed}`);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw datasetError(
        'options',
        `loader: concurrency must be an integer >= 1, got ${options.concurrency}`,
      );
    }
    if (!Number.isInteger(this.prefetchDepth) || this.prefetchDepth < 0) {
      throw datasetError('options', `loader: prefetch must be an integer >= 0, got ${options.prefetch}`);
    }
    if (options.augment) checkAugment(options.augment);
    this.augment = options.augment;
    this.pixels = this.decode.channels * this.decode.width * this.decode.height;
    this.decodes = new DecodeQueue(dataset, this.decode, this.cache, concurrency);
    this.finisher = new ImageFinisher(this.imageShape, this.preprocessing, this.augment?.fill ?? 'edge');
  }

  /** [C, H, W] of one image. */
  get imageShape(): readonly [number, number, number] {
    return [this.decode.channels, this.decode.height, this.decode.width];
  }

  stats(): LoaderStats {
    return {
      decoded: this.decodes.decoded,
      ...this.counts,
      cacheHits: this.cache.hits,
      cacheMisses: this.cache.misses,
      cacheBytes: this.cache.bytes,
      cacheEntries: this.cache.size,
      evictions: this.cache.evictions,
    };
  }

  /** One item decoded and resized (8-bit HWC), from the cache when it is there. */
  image(index: number): Promise<DecodedImage> {
    return this.decodes.image(index);
  }

  /**
   * Decodes `indices` into `out`, augmenting when `step` is given (slot `firstSlot + k` of the
   * batch picks the stream). Each image is finished (planar, augmented, normalized) as soon as it
   * is decoded.
   */
  private async fillImages(
    out: Float32Array,
    firstSlot: number,
    indices: readonly number[],
    step: number | undefined,
  ): Promise<void> {
    await Promise.all(
      indices.map(async (index, k) => {
        const image = await this.image(index);
        const slot = firstSlot + k;
        const offset = k * this.pixels;
        const params =
          step !== undefined && this.augment
            ? sampleAugment(this.augment, stream(this.seed, `augment/${step}/${slot}`))
            : IDENTITY;
        this.finisher.finish(image, params, out, offset);
      }),
    );
  }

  private stepFor(options: BatchOptions | undefined): number | undefined {
    return options?.train && this.augment ? this.trainStep++ : undefined;
  }

  private tensor(n: number): Tensor<'float32'> {
    const [c, h, w] = this.imageShape;
    return { dtype: 'float32', shape: [n, c, h, w], data: new Float32Array(n * this.pixels) };
  }

  private async track<T>(work: Promise<T>): Promise<T> {
    this.counts.batchesStarted++;
    const v = await work;
    this.counts.batchesDone++;
    return v;
  }

  /** Images of `indices` as one [N, C, H, W] batch, with their class labels. */
  imageBatch(indices: readonly number[], options?: BatchOptions): Promise<ImageBatch> {
    const step = this.stepFor(options);
    const x = this.tensor(indices.length);
    const labels = Int32Array.from(indices, (i) => this.dataset.items[i]?.label ?? -1);
    return this.track(
      this.fillImages(x.data, 0, indices, step).then(() => ({
        x,
        labels: { dtype: 'int32', shape: [indices.length], data: labels } as Tensor<'int32'>,
        indices,
      })),
    );
  }

  /** Pairs as x1, x2 [N, C, H, W] and labels [N, 1] (1 = same). */
  pairBatch(pairs: readonly Pair[], options?: BatchOptions): Promise<PairBatch> {
    const step = this.stepFor(options);
    const n = pairs.length;
    const x1 = this.tensor(n);
    const x2 = this.tensor(n);
    const labels: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [n, 1],
      data: Float32Array.from(pairs, (p) => p.same),
    };
    return this.track(
      Promise.all([
        this.fillImages(
          x1.data,
          0,
          pairs.map((p) => p.a),
          step,
        ),
        this.fillImages(
          x2.data,
          n,
          pairs.map((p) => p.b),
          step,
        ),
      ]).then(() => ({ x1, x2, labels, pairs })),
    );
  }

  /** Triplets as anchor, positive, negative [N, C, H, W]. */
  tripletBatch(triplets: readonly Triplet[], options?: BatchOptions): Promise<TripletBatch> {
    const step = this.stepFor(options);
    const n = triplets.length;
    const [anchor, positive, negative] = [this.tensor(n), this.tensor(n), this.tensor(n)];
    return this.track(
      Promise.all([
        this.fillImages(
          anchor.data,
          0,
          triplets.map((t) => t.anchor),
          step,
        ),
        this.fillImages(
          positive.data,
          n,
          triplets.map((t) => t.positive),
          step,
        ),
        this.fillImages(
          negative.data,
          2 * n,
          triplets.map((t) => t.negative),
          step,
        ),
      ]).then(() => ({ anchor, positive, negative, triplets })),
    );
  }

  /**
   * Runs `make` over `specs` keeping `prefetch` batches in flight beyond the one being awaited:
   * while the trainer works on batch k, batches k+1..k+prefetch decode. `make` is called in
   * order, synchronously, so the augmentation steps do not depend on timing.
   */
  prefetched<S, T>(specs: Iterable<S>, make: (spec: S) => Promise<T>): AsyncGenerator<T, void, undefined> {
    return prefetched(specs, make, this.prefetchDepth);
  }

  /** Pair batches from any source of pair lists (a sampler's `batches`, a listed epoch...). */
  pairBatches(
    source: Iterable<readonly Pair[]>,
    options?: BatchOptions,
  ): AsyncGenerator<PairBatch, void, undefined> {
    return this.prefetched(source, (pairs) => this.pairBatch(pairs, options));
  }

  tripletBatches(
    source: Iterable<readonly Triplet[]>,
    options?: BatchOptions,
  ): AsyncGenerator<TripletBatch, void, undefined> {
    return this.prefetched(source, (t) => this.tripletBatch(t, options));
  }

  imageBatches(
    source: Iterable<readonly number[]>,
    options?: BatchOptions,
  ): AsyncGenerator<ImageBatch, void, undefined> {
    return this.prefetched(source, (indices) => this.imageBatch(indices, options));
  }
}

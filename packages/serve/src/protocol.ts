/** Messages between the server and its inference workers (child processes, 'advanced' IPC). */
import type { Preprocessing, Threshold } from '@siamese/core';

/** What a worker loads: sent once, right after it starts. */
export interface WorkerInit {
  readonly type: 'init';
  readonly modelDir: string;
  readonly device: 'auto' | 'cuda' | 'cpu';
  /** onnxruntime's intra-op threads in this worker. */
  readonly threads: number;
  /** Images per onnxruntime run. */
  readonly batchSize: number;
  readonly pixelLimit: number;
  /** 0 for the first workers, n for the n-th replacement (fault injection applies to generation 0). */
  readonly generation: number;
}

/** Decode, embed, then score pairs with the head: one micro-batch. */
export interface ImagesJob {
  readonly type: 'images';
  readonly id: number;
  /** Distinct encoded images (identical uploads are sent once). */
  readonly images: readonly Uint8Array[];
  /** [a0, b0, a1, b1, ...]: indices into images, scored by the head (compare). */
  readonly pairs: readonly number[];
}

/** The head alone: each query embedding against every row of a table (search). */
export interface HeadJob {
  readonly type: 'head';
  readonly id: number;
  /** [Q, D] */
  readonly queries: Float32Array;
  /** The rows, or undefined when the worker already holds `tableKey`. */
  readonly table?: Float32Array;
  /** Identifies a table the worker may keep (the gallery's version); undefined: do not keep it. */
  readonly tableKey?: string;
  readonly rows: number;
}

export type ToWorker = WorkerInit | ImagesJob | HeadJob | { readonly type: 'close' };

/** A decode failure of one image: the message names no file (the server names the field). */
export interface ImageFailure {
  readonly code: 'invalid-image' | 'pixel-limit';
  readonly message: string;
}

export interface ImagesResult {
  readonly type: 'images';
  readonly id: number;
  /** Per image: null when it decoded, else why not. */
  readonly failures: readonly (ImageFailure | null)[];
  /** [images, D]; rows of failed images are zeros. */
  readonly embeddings: Float32Array;
  /** Per pair: NaN when one of its images failed. */
  readonly logits: Float32Array;
  readonly probabilities: Float32Array;
}

export interface HeadResult {
  readonly type: 'head';
  readonly id: number;
  /** [Q, rows] */
  readonly logits: Float32Array;
}

/** What the server reports about the model (GET /v1/model), from the worker that loaded it. */
export interface ModelInfo {
  readonly architecture: string;
  readonly embeddingSize: number;
  readonly input: { readonly channels: number; readonly height: number; readonly width: number };
  readonly preprocessing: Preprocessing;
  readonly threshold: Threshold | null;
  /** The artifact's precision ('int8' for a quantized folder), else 'fp32'. */
  readonly precision: string;
  readonly metrics: Readonly<Record<string, number>>;
  /** core's modelFingerprint: what ties a gallery file to this model. */
  readonly fingerprint: string;
  /** The onnxruntime execution provider used. */
  readonly provider: string;
}

export type FromWorker =
  | { readonly type: 'ready'; readonly info: ModelInfo }
  | { readonly type: 'failed'; readonly message: string }
  | ImagesResult
  | HeadResult
  | { readonly type: 'job-failed'; readonly id: number; readonly message: string };

/** The server's settings, their defaults, and how workers and threads share the cores. */
import { availableParallelism } from 'node:os';
import { DEFAULT_PIXEL_LIMIT } from '@siamese/datasets';
import { ServeConfigError } from './errors.js';

export interface ServeOptions {
  /** The model folder (model.json + weights.safetensors). */
  readonly model: string;
  /** Default 127.0.0.1: reachable from this machine only unless told otherwise. */
  readonly host?: string;
  /** Default 8080; 0 picks a free port (see `url`). */
  readonly port?: number;
  /** An embeddings file (from `siamese embed`, or a new file): searched, enrolled into, kept. */
  readonly gallery?: string;
  /** Inference workers (child processes). Default: the cores, at most 8. */
  readonly workers?: number;
  /** onnxruntime intra-op threads per worker. Default: cores / workers, at least 1. */
  readonly threads?: number;
  readonly device?: 'auto' | 'cuda' | 'cpu';
  /** Distinct images per encoder batch. Default 32. */
  readonly maxBatch?: number;
  /** How long a request waits for others to share its batch while a worker is free. Default 5 ms. */
  readonly maxDelayMs?: number;
  /** Requests that may wait for a worker before new ones get 503. Default 64 per worker. */
  readonly maxQueue?: number;
  /** Each request's deadline, from arrival to answer (504 past it). Default 30 s. */
  readonly timeoutMs?: number;
  /** Required as `Authorization: Bearer <token>` on every route but /healthz and /readyz. */
  readonly token?: string;
  /** Largest request body (JSON with base64 images, or multipart). Default 32 MiB. */
  readonly bodyLimit?: number;
  /** Largest single image upload, encoded. Default 10 MiB. */
  readonly maxImageBytes?: number;
  /** Images over this many pixels are refused before decoding. Default datasets' 8192 x 8192. */
  readonly pixelLimit?: number;
  /** Images one enrolment may hold. Default 32. */
  readonly maxEnrolImages?: number;
  /** Log each request (fastify's pino logger) to stdout. Default false. */
  readonly logRequests?: boolean;
}

export type ResolvedOptions = Required<Omit<ServeOptions, 'gallery' | 'token'>> &
  Pick<ServeOptions, 'gallery' | 'token'> & { readonly cores: number };

function positiveInteger(name: string, v: number | undefined, min = 1): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= min)) {
    throw new ServeConfigError(`${name} must be an integer >= ${min}, got ${v}`);
  }
}

/** Defaults filled in; workers x threads fitted to the cores (os.availableParallelism). */
export function resolveOptions(o: ServeOptions, cores = availableParallelism()): ResolvedOptions {
  positiveInteger('workers', o.workers);
  positiveInteger('threads', o.threads);
  positiveInteger('maxBatch', o.maxBatch);
  positiveInteger('maxDelayMs', o.maxDelayMs, 0);
  positiveInteger('maxQueue', o.maxQueue);
  positiveInteger('timeoutMs', o.timeoutMs);
  positiveInteger('port', o.port, 0);
  positiveInteger('bodyLimit', o.bodyLimit);
  positiveInteger('maxImageBytes', o.maxImageBytes);
  positiveInteger('pixelLimit', o.pixelLimit);
  positiveInteger('maxEnrolImages', o.maxEnrolImages);
  if (o.port !== undefined && o.port > 65535)
    throw new ServeConfigError(`port must be <= 65535, got ${o.port}`);
  if (o.token !== undefined && o.token.length < 16) {
    throw new ServeConfigError('the token must be at least 16 characters');
  }
  const workers =
    o.workers ?? Math.max(1, Math.min(cores, 8, o.threads ? Math.floor(cores / o.threads) : cores));
  const threads = o.threads ?? Math.max(1, Math.floor(cores / workers));
  if (o.threads !== undefined && workers * threads > cores) {
    throw new ServeConfigError(
      `workers x threads = ${workers} x ${threads} = ${workers * threads} is more than the ${cores} cores; lower one of them`,
    );
  }
  return {
    model: o.model,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 8080,
    ...(o.gallery !== undefined ? { gallery: o.gallery } : {}),
    workers,
    threads,
    device: o.device ?? 'auto',
    maxBatch: o.maxBatch ?? 32,
    maxDelayMs: o.maxDelayMs ?? 5,
    maxQueue: o.maxQueue ?? 64 * workers,
    timeoutMs: o.timeoutMs ?? 30_000,
    ...(o.token !== undefined ? { token: o.token } : {}),
    bodyLimit: o.bodyLimit ?? 32 * 1024 * 1024,
    maxImageBytes: o.maxImageBytes ?? 10 * 1024 * 1024,
    pixelLimit: o.pixelLimit ?? DEFAULT_PIXEL_LIMIT,
    maxEnrolImages: o.maxEnrolImages ?? 32,
    logRequests: o.logRequests ?? false,
    cores,
  };
}

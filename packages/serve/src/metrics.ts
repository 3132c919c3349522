/** The server's Prometheus metrics (prom-client), in a registry of its own (no global state). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route'>;
  /** Images per encoder batch (after deduplication). */
  readonly batchImages: Histogram;
  /** Requests per encoder batch. */
  readonly batchRequests: Histogram;
  /** Images that were not sent to the encoder because an identical upload was in the same batch. */
  readonly deduplicated: Counter;
  readonly queueDepth: Gauge;
  readonly inferenceSeconds: Histogram<'kind'>;
  readonly rejected: Counter<'reason'>;
  readonly workerCrashes: Counter;
  readonly workersWarm: Gauge;
  readonly workersBusy: Gauge;
  readonly galleryRows: Gauge;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const sizes = [1, 2, 4, 8, 16, 32, 64, 128];
  return {
    registry,
    requests: new Counter({
      name: 'siamese_http_requests_total',
      help: 'HTTP requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    latency: new Histogram({
      name: 'siamese_http_request_duration_seconds',
      help: 'Time from request to response, by route',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchImages: new Histogram({
      name: 'siamese_batch_images',
      help: 'Distinct images per encoder batch',
      buckets: sizes,
      registers,
    }),
    batchRequests: new Histogram({
      name: 'siamese_batch_requests',
      help: 'Requests per encoder batch',
      buckets: sizes,
      registers,
    }),
    deduplicated: new Counter({
      name: 'siamese_batch_deduplicated_images_total',
      help: 'Uploads not re-encoded because identical bytes were in the same batch',
      registers,
    }),
    queueDepth: new Gauge({
      name: 'siamese_queue_depth',
      help: 'Requests waiting for a worker',
      registers,
    }),
    inferenceSeconds: new Histogram({
      name: 'siamese_inference_duration_seconds',
      help: 'Time a worker took for one job (images: decode + encoder + head; head: search scoring)',
      labelNames: ['kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    rejected: new Counter({
      name: 'siamese_rejected_requests_total',
      help: 'Requests refused or cut short: queue full, deadline, worker crash, draining',
      labelNames: ['reason'],
      registers,
    }),
    workerCrashes: new Counter({
      name: 'siamese_worker_crashes_total',
      help: 'Inference workers that died and were replaced',
      registers,
    }),
    workersWarm: new Gauge({ name: 'siamese_workers_warm', help: 'Workers with warm sessions', registers }),
    workersBusy: new Gauge({ name: 'siamese_workers_busy', help: 'Workers running a job', registers }),
    galleryRows: new Gauge({ name: 'siamese_gallery_rows', help: 'Embeddings in the gallery', registers }),
  };
}

/**
 * @siamese/serve: a Siamese model over HTTP. compare, embed, search and enrolment, micro-batched
 * onto a pool of inference workers (onnxruntime in child processes), with Prometheus metrics,
 * an OpenAPI document, backpressure, deadlines and graceful shutdown. No side effects on import.
 */
export { Batcher, type BatchOptions, type ImagesAnswer, type Upload } from './batcher.js';
export { type ErrorBody, errorBody, ServeConfigError, ServeError, type ServeErrorCode } from './errors.js';
export {
  type CandidateRows,
  FlatGallery,
  type Gallery,
  type GalleryEntry,
  type GalleryMatch,
  type RowScorer,
} from './gallery.js';
export { createMetrics, type Metrics } from './metrics.js';
export { type ResolvedOptions, resolveOptions, type ServeOptions } from './options.js';
export { type Job, type JobResult, type Pending, type PoolOptions, type Slot, WorkerPool } from './pool.js';
export type {
  HeadJob,
  HeadResult,
  ImageFailure,
  ImagesJob,
  ImagesResult,
  ModelInfo,
  WorkerInit,
} from './protocol.js';
export { type SiameseServer, startServer } from './server.js';
export { serveVersion } from './version.js';

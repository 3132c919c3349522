/**
 * @siamese/web: a model trained and exported by siamese, run in the browser with onnxruntime-web.
 * ESM without Node built-ins; onnxruntime-web is imported on `load`, never on import.
 */
export { type WebErrorKind, WebModelError } from './errors.js';
export { Gallery } from './gallery.js';
export {
  parseManifest,
  WEB_MANIFEST_FILE,
  WEB_MANIFEST_FORMAT,
  WEB_MANIFEST_VERSION,
  type WebManifest,
  type WebModelFile,
  type WebPrecision,
} from './manifest.js';
export { type LoadOptions, load, type ModelInfo, type Score, type SearchHit, WebSiamese } from './model.js';
export { type OnnxInfo, readOnnxInfo } from './onnx-metadata.js';
export {
  DEFAULT_MAX_PIXELS,
  type ImageInput,
  type PreprocessOptions,
  type PreprocessReport,
} from './preprocess/preprocessor.js';
export type { ExecutionProvider, RuntimeOptions, RuntimeReport } from './runtime.js';
export type { ModelSource } from './source.js';

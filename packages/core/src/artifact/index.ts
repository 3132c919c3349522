export { loadModel, saveModel } from './file.js';
export {
  ArtifactError,
  MODEL_FILE,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelArtifact,
  type Threshold,
  WEIGHTS_FILE,
} from './model.js';
export {
  checkPreprocessing,
  defaultPreprocessing,
  GRAY_MEAN,
  GRAY_STD,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type Preprocessing,
} from './preprocessing.js';
export {
  type PairQuality,
  QUANTIZED_CUTS,
  type Quantization,
  type QuantizationComparison,
  type QuantizationRecord,
  type QuantizedCut,
  quantizedFile,
} from './quantization.js';

/**
 * @siamese/backend-onnx: exports core graphs to ONNX (opset 17, eval mode) and runs them with onnxruntime-node.
 */

export {
  CUDA_REQUIREMENT,
  type DeviceAttempt,
  DeviceError,
  type DeviceReport,
  describeDevice,
  ONNX_DEVICES,
  type OnnxDevice,
  parseDevice,
} from './device.js';
export { attr, LoweringContext } from './export/context.js';
export {
  CUT_METADATA_KEY,
  exportSiameseCut,
  SIAMESE_CUTS,
  type SiameseCutName,
  type SiameseCutOptions,
  STACK_ENCODER_MAX_VALUES,
  siameseCut,
  stacksEncoder,
} from './export/cuts.js';
export { type Folded, foldBatchNorm } from './export/fold.js';
export { type GraphBinding, lowerGraph } from './export/graph.js';
export { LOWERINGS, type LoweringTable } from './export/lowering.js';
export {
  type ExportOptions,
  exportOnnx,
  METADATA_KEYS,
  ONNX_IR_VERSION,
  PRODUCER_NAME,
} from './export/model.js';
export {
  type TritonOptions,
  type TritonPaths,
  type TritonTensor,
  tritonConfig,
  tritonRepository,
  tritonTensors,
} from './export/triton.js';
export { type Lowering, type LoweringArgs, OPSET } from './export/types.js';
export { InputError } from './images.js';
export { type ModelOptions, OnnxSiamese, type Precision, type Scores } from './model.js';
/** The generated ONNX protobuf types (from the pinned onnx.proto), for code that builds or reads models. */
export * as onnxProto from './proto/onnx_pb.js';
export {
  type CalibrateOptions,
  type CalibrationBatch,
  calibrate,
} from './quantize/calibrate.js';
export { calibrateSiamese } from './quantize/calibrate-siamese.js';
export { pairRanges } from './quantize/pair-ranges.js';
export type { QdqScope } from './quantize/plan.js';
export { QUANTIZATION_METADATA_KEY, quantizeQdq } from './quantize/qdq.js';
export {
  type ActivationRanges,
  CALIBRATION_METHODS,
  type CalibrationMethod,
  type Range,
} from './quantize/ranges.js';
export {
  createSession,
  loadOrt,
  missingCudaProvider,
  type OnnxSession,
  type SessionOptions,
} from './session.js';
export { createOnnxBackend, type OnnxBackendOptions, OnnxTrainingBackend } from './train/backend.js';
export type { TrainingSession } from './train/probes.js';
export { type TrainingModel, trainingModel } from './train/step-model.js';

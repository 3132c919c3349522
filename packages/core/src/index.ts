/**
 * @siamese/core: Siamese networks as a backend-agnostic graph IR. No runtime dependencies.
 */

export * from './artifact/index.js';
export * from './autodiff/index.js';
export * from './embeddings/index.js';
export { type AttrsInput, GraphBuilder, type ParamOptions } from './ir/builder.js';
export { GraphError, ShapeError } from './ir/errors.js';
export { type Cut, extract } from './ir/extract.js';
export { printGraph } from './ir/print.js';
export { deserialize, type GraphJSON, serialize, toJSON } from './ir/serialize.js';
export { formatShape, formatType, shapesEqual, staticSize } from './ir/shape.js';
export { formatSummary, type OpCost, type Summary, summarize } from './ir/summary.js';
export * from './ir/types.js';
export { verify } from './ir/verify.js';
export * from './losses/index.js';
export * from './metrics/index.js';
export { fans, type Initializer, initTensor, initWeights, linearDefault } from './nn/init.js';
export { batchNorm2d, type ConvOptions, conv, conv1x1, conv3x3, linear, relu } from './nn/layers.js';
export { Random } from './nn/random.js';
export {
  type BlockKind,
  type EncoderGraphOptions,
  EXPANSION,
  isResNetPreset,
  RESNET_PRESETS,
  type ResNetConfig,
  type ResNetPreset,
  resnet,
  resnetEmbeddingSize,
  resnetEncoder,
  resnetPreset,
  resolveResNet,
} from './nn/resnet.js';
export {
  COMBINE_MODES,
  type CombineMode,
  type HeadConfig,
  type ResolvedSiameseConfig,
  resolveSiamese,
  type SiameseConfig,
  siamese,
  siameseTraining,
} from './nn/siamese.js';
export { type Conv2dAttrs, type Conv2dGradAttrs, windowOut } from './ops/conv.js';
export type { DistanceAttrs, L2NormalizeAttrs } from './ops/distance.js';
export type { ClampAttrs, NoAttrs, ScaleAttrs } from './ops/elementwise.js';
export {
  ARCFACE_SINE2_EPS,
  arcfaceConstants,
  MARGIN_DEFAULTS,
  MARGIN_KINDS,
  type MarginKind,
  type MarginLogitsAttrs,
  type SoftmaxAttrs,
} from './ops/identity.js';
export type { BroadcastToAttrs, ConcatAttrs, FlattenAttrs, SliceAttrs } from './ops/layout.js';
export type { DropoutAttrs, MatmulAttrs } from './ops/linear.js';
export type { MarginAttrs, TripletAttrs } from './ops/loss.js';
export type { BatchNormAttrs } from './ops/norm.js';
export type { MaxPool2dAttrs } from './ops/pool.js';
export type { NumelAttrs, ReduceAttrs } from './ops/reduce.js';
export type { DimBindings, InputSpec, OpSpec } from './ops/spec.js';
export { isOpName, OPS, type OpAttrs, type OpName, opSpec } from './ops/table.js';
export * from './scoring/index.js';
export { allocate, type DataTypes, numel, type Tensor, type TensorData, tensor } from './tensor/tensor.js';
export * from './train/index.js';
export * from './weights/index.js';

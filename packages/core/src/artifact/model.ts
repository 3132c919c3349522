/**
 * The model artifact: a folder with `model.json` (graph, config, preprocessing, calibrated
 * threshold, metrics) and `weights.safetensors` (torchvision names). Every backend reads it;
 * nothing else is needed to run the model.
 */
import type { Graph } from '../ir/types.js';
import type { SiameseConfig } from '../nn/siamese.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Preprocessing } from './preprocessing.js';
import type { Quantization } from './quantization.js';
import type { Threshold } from './threshold.js';

export type { Threshold } from './threshold.js';

export const MODEL_FORMAT = 'siamese-model';
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';

export interface ModelArtifact {
  /** The inference graph (`siamese(config)`). */
  readonly graph: Graph;
  readonly config: SiameseConfig;
  readonly preprocessing: Preprocessing;
  readonly threshold?: Threshold;
  /** Evaluation results (pair accuracy, ROC AUC, EER, ...), by name. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Every parameter and buffer of the graph, by torchvision name. */
  readonly weights: Map<string, Tensor>;
  /**
   * Where the model came from (the training run's id, settings, data, package versions, ...):
   * written as given, read back as an object; its fields are the writer's business.
   */
  readonly provenance?: Readonly<Record<string, unknown>>;
  /**
   * An int8 model's quantized ONNX and its record (`siamese export --quantize int8`). Runtimes
   * that can run it do so without being asked; `threshold` above stays the fp32 weights' own.
   */
  readonly quantization?: Quantization;
}

/** Raised for a folder that is not a usable model; the message is one line naming the file. */
export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/**
 * The model artifact: a folder with `model.json` (graph, config, preprocessing, calibrated
 * threshold, metrics) and `weights.safetensors` (torchvision names). Every backend reads it;
 * nothing else is needed to run the model.
 */
import type { Graph } from '../ir/types.js';
import type { SiameseConfig } from '../nn/siamese.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Preprocessing } from './preprocessing.js';

export const MODEL_FORMAT = 'siamese-model';
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';

/** The decision threshold on the match probability, and how it was chosen. */
export interface Threshold {
  /** Pairs with probability >= this are declared the same. */
  readonly probability: number;
  /** `eer`: equal error rate on validation pairs; `far`: the target false-accept rate below. */
  readonly method: 'eer' | 'far' | 'fixed';
  readonly targetFar?: number;
}

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
}

/** Raised for a folder that is not a usable model; the message is one line naming the file. */
export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

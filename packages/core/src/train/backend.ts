/**
 * What a backend supplies to the training loop: a compiled training step and an eval-mode
 * forward, plus access to weights and optimizer state for checkpoints. Nothing backend-specific
 * lives in the loop.
 */
import type { Tensor } from '../tensor/tensor.js';

/** A batch by graph input name: `x1`, `x2`, `labels` (or `anchor`, `positive`, `negative`). */
export interface Batch {
  readonly inputs: Readonly<Record<string, Tensor<'float32'>>>;
  /** Number of examples (pairs or triplets). */
  readonly size: number;
}

export interface StepResult {
  /** Mean loss of the batch before the update. */
  readonly loss: number;
}

export interface EvalResult {
  /** Mean loss of the batch in eval mode, when the batch has labels. */
  readonly loss?: number;
  /** One score per pair, higher = more likely the same (a probability, or a negated distance). */
  readonly scores: Float32Array;
}

/** Optimizer slots (moments, momentum buffers) by name, and the number of steps taken. */
export interface OptimizerState {
  readonly step: number;
  readonly slots: Map<string, Tensor>;
}

export interface TrainingBackend {
  /** E.g. 'tfjs (wasm)' or 'onnxruntime (cpu)': printed in progress and reports. */
  readonly description: string;
  /** One optimizer update at learning rate `lr`; BatchNorm statistics update as in train mode. */
  step(batch: Batch, lr: number): Promise<StepResult>;
  /** Forward in eval mode (running statistics, no dropout). */
  evaluate(batch: Batch): Promise<EvalResult>;
  /** Every parameter and buffer by name (torchvision names), as host tensors. */
  readWeights(): Promise<Map<string, Tensor>>;
  writeWeights(weights: Map<string, Tensor>): Promise<void>;
  readOptimizerState(): Promise<OptimizerState>;
  writeOptimizerState(state: OptimizerState): Promise<void>;
  dispose(): void | Promise<void>;
}

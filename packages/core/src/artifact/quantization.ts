/**
 * An int8 model: the same folder as its fp32 source (model.json, weights.safetensors) plus the
 * quantized ONNX of the encoder (and of the pair cut, for deployment), bound to model.json by
 * their sha256. model.json's `quantization` says how they were calibrated, the int8 model's own
 * threshold, and what int8 costs against fp32 on held-out pairs. The fp32 weights stay: the head
 * runs in fp32, and every fp32 path (training from it, other backends) keeps working.
 */
import type { Threshold } from './threshold.js';

/** The cuts a model folder may carry quantized. The head runs on embeddings and stays fp32. */
export const QUANTIZED_CUTS = ['encoder', 'pair'] as const;
export type QuantizedCut = (typeof QUANTIZED_CUTS)[number];

/** The file of a quantized cut inside the model folder. */
export function quantizedFile(cut: QuantizedCut): string {
  return `${cut}.int8.onnx`;
}

/** One precision's quality on the held-out pairs. */
export interface PairQuality {
  readonly auc: number;
  /** Accuracy at `threshold`. */
  readonly accuracy: number;
  readonly threshold: number;
}

/** int8 against fp32 on the same held-out pairs (never the calibration images). */
export interface QuantizationComparison {
  /** What the pairs are (the test part of a split, a held-out half of the data, ...). */
  readonly data: string;
  readonly pairs: number;
  readonly fp32: PairQuality;
  readonly int8: PairQuality;
  /** fp32 minus int8 (positive: int8 is worse). */
  readonly aucDrop: number;
  readonly accuracyDrop: number;
  readonly maxAbsProbabilityDelta: number;
  readonly meanAbsProbabilityDelta: number;
  /** The targets the export checked, and whether the model met them or `--accept-drop` let it through. */
  readonly targets: { readonly aucDrop: number; readonly accuracyDrop: number };
  readonly accepted: 'within-targets' | 'accept-drop';
}

/** model.json's `quantization`, less the file hashes. */
export interface QuantizationRecord {
  readonly format: 'QDQ';
  readonly activations: 'uint8 asymmetric per tensor';
  readonly weights: 'int8 symmetric per channel';
  readonly calibration: {
    readonly method: string;
    readonly images: number;
    /** What the images were (the validation part of a split, ...). */
    readonly data: string;
  };
  /** The threshold re-calibrated on the int8 model's own probabilities (model.threshold stays fp32's). */
  readonly threshold?: Threshold;
  readonly comparison: QuantizationComparison;
}

export interface Quantization {
  readonly precision: 'int8';
  /** Serialized ONNX QDQ models by cut; `encoder` always. */
  readonly onnx: { readonly encoder: Uint8Array; readonly pair?: Uint8Array };
  readonly record: QuantizationRecord;
}

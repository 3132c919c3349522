/** What calibration hands to the QDQ rewrite: one observed range per value that gets quantized. */
import type { Range } from './params.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface ActivationRanges {
  readonly method: CalibrationMethod;
  /** Items (images, or pairs for a two-input model) the ranges were observed on. */
  readonly images: number;
  /** By ONNX value name, in graph order. */
  readonly ranges: ReadonlyMap<string, Range>;
}

export type { Range };

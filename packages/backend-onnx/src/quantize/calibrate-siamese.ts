/**
 * Calibration of a Siamese model: its encoder cut (BatchNorm folded, as every int8 cut is written)
 * observed over batches of preprocessed images. The ranges quantize any cut through
 * `exportSiameseCut(..., { quantize: ranges })`.
 */
import type { Graph, Tensor } from '@siamese/core';
import { exportSiameseCut } from '../export/cuts.js';
import { type CalibrateOptions, type CalibrationBatch, calibrate } from './calibrate.js';
import type { ActivationRanges } from './ranges.js';

export async function calibrateSiamese(
  model: { readonly graph: Graph; readonly weights: ReadonlyMap<string, Tensor> },
  images: Iterable<Tensor<'float32'>> | AsyncIterable<Tensor<'float32'>>,
  o: Omit<CalibrateOptions, 'upTo'> = {},
): Promise<ActivationRanges> {
  const encoder = exportSiameseCut(model.graph, model.weights, 'encoder');
  return calibrate(encoder, images as Iterable<CalibrationBatch> | AsyncIterable<CalibrationBatch>, o);
}

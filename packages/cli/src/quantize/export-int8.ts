/**
 * `siamese export MODEL --quantize int8`: calibrate the encoder on real images with the model's own
 * preprocessing, write the int8 cuts, measure int8 against fp32 on held-out pairs, re-fit the
 * threshold, and hand back the int8 model for the caller to write, or refuse it when it costs more
 * accuracy than the targets allow (unless --accept-drop).
 */
import type { CalibrationMethod } from '@siamese/backend-onnx';
import type { ModelArtifact, Quantization, QuantizationRecord, Tensor } from '@siamese/core';
import type { InferSettings } from '../commands/options.js';
import { count } from '../infer/data.js';
import type { Output } from '../io.js';
import { comparePrecisions, judge } from './compare.js';
import { type QuantizationData, type QuantizationDataRequest, quantizationData } from './data.js';
import { comparisonLines } from './format.js';
import { stepProgress } from './progress.js';

export interface Int8Request {
  readonly modelDir: string;
  readonly data: QuantizationDataRequest;
  readonly method: CalibrationMethod;
  readonly acceptDrop: boolean;
  readonly settings: InferSettings;
  readonly tty: boolean;
}

async function* calibrationBatches(
  data: QuantizationData,
  artifact: ModelArtifact,
  batchSize: number,
): AsyncGenerator<Tensor<'float32'>> {
  const { Loader, chunks } = await import('@siamese/datasets');
  const loader = new Loader(data.calibration.dataset, {
    preprocessing: artifact.preprocessing,
    cacheBytes: 0,
  });
  for await (const batch of loader.imageBatches(chunks(data.calibration.indices, batchSize))) yield batch.x;
}

/** The int8 model (fp32 weights kept, quantized cuts and their record added). */
export async function quantizeInt8(
  artifact: ModelArtifact,
  req: Int8Request,
  io: Output,
): Promise<ModelArtifact> {
  const onnx = await import('@siamese/backend-onnx');
  const data = await quantizationData(req.modelDir, artifact, req.data, io);
  const total = data.calibration.indices.length;
  io.out(`calibrating (${req.method}) on ${count(total, 'image')}: ${data.calibration.description}`);
  const progress = stepProgress(io, 'calibrating', total, req.tty);
  const batchSize = req.settings.batchSize;
  let seen = 0;
  const ranges = await onnx.calibrateSiamese(artifact, calibrationBatches(data, artifact, batchSize), {
    method: req.method,
    ...(req.settings.threads !== undefined ? { threads: req.settings.threads } : {}),
    onProgress: () => {
      seen = Math.min(total, seen + batchSize);
      progress(seen);
    },
  });
  progress.done();

  const cuts = (metadata: Record<string, unknown>): Quantization['onnx'] => ({
    encoder: onnx.exportSiameseCut(artifact.graph, artifact.weights, 'encoder', {
      quantize: ranges,
      metadata,
    }),
    pair: onnx.exportSiameseCut(artifact.graph, artifact.weights, 'pair', { quantize: ranges, metadata }),
  });
  const base = {
    format: 'QDQ',
    activations: 'uint8 asymmetric per tensor',
    weights: 'int8 symmetric per channel',
    calibration: { method: req.method, images: ranges.images, data: data.calibration.description },
  } as const;
  // Scored before it has a threshold or a comparison of its own.
  const trial: ModelArtifact = {
    ...artifact,
    quantization: { precision: 'int8', onnx: cuts({}), record: base as QuantizationRecord },
  };
  const session = {
    device: req.settings.device,
    batchSize,
    ...(req.settings.threads !== undefined ? { threads: req.settings.threads } : {}),
  };
  const fp32 = await onnx.OnnxSiamese.fromArtifact(artifact, { ...session, precision: 'fp32' });
  const int8 = await onnx.OnnxSiamese.fromArtifact(trial, { ...session, precision: 'int8' });
  let result: Awaited<ReturnType<typeof comparePrecisions>>;
  try {
    io.out(
      `comparing int8 with fp32 on ${count(data.heldOut.pairs.length, 'held-out pair')} (${data.heldOut.description}); threshold re-fitted on ${count(data.thresholdPairs.pairs.length, 'pair')} of the calibration part`,
    );
    result = await comparePrecisions(fp32, int8, data, batchSize);
  } finally {
    await Promise.all([fp32.dispose(), int8.dispose()]);
  }
  const { comparison, threshold } = result;
  for (const line of comparisonLines(comparison)) io.out(line);
  const warning = judge(comparison, req.acceptDrop);
  if (warning) io.err(`warning: ${warning}`);
  const record: QuantizationRecord = { ...base, threshold, comparison };
  const metadata = { preprocessing: artifact.preprocessing, threshold, comparison };
  return { ...artifact, quantization: { precision: 'int8', onnx: cuts(metadata), record } };
}

/**
 * int8 at the level of a Siamese model: one calibration of the encoder cut quantizes every cut; a
 * pair scored by the int8 pair cut (stacked or separate encoders) equals its two int8 embeddings
 * scored by the fp32 head; the head is never quantized; and OnnxSiamese runs a quantized artifact
 * in int8 without being asked, with the int8 threshold, or in fp32 when asked.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { defaultPreprocessing, type ModelArtifact, type Quantization, siamese } from '@siamese/core';
import { InferenceSession } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportSiameseCut } from '../export/cuts.js';
import { OnnxSiamese } from '../model.js';
import { ModelProtoSchema } from '../proto/onnx_pb.js';
import { SIZE, strokeImages, trainedLooking } from './__fixtures__/synthetic.js';
import { calibrateSiamese } from './calibrate-siamese.js';

const config = {
  encoder: 'resnet10_w8',
  input: { channels: 1, height: SIZE, width: SIZE },
  head: { hidden: [16] },
} as const;
const graph = siamese(config);
const weights = trainedLooking(graph, 7);
const preprocessing = defaultPreprocessing(config.input);
const fp32: ModelArtifact = {
  graph,
  config,
  preprocessing,
  threshold: { probability: 0.5, method: 'eer' },
  weights,
};
const a = strokeImages(6, 41);
const b = strokeImages(6, 42);

const ops = (bytes: Uint8Array): string[] =>
  fromBinary(ModelProtoSchema, bytes).graph!.node.map((n) => n.opType);

function record(threshold: number): Quantization['record'] {
  const quality = { auc: 1, accuracy: 1, threshold };
  return {
    format: 'QDQ',
    activations: 'uint8 asymmetric per tensor',
    weights: 'int8 symmetric per channel',
    calibration: { method: 'minmax', images: 16, data: 'synthetic' },
    threshold: { probability: threshold, method: 'eer' },
    comparison: {
      data: 'synthetic',
      pairs: 6,
      fp32: quality,
      int8: quality,
      aucDrop: 0,
      accuracyDrop: 0,
      maxAbsProbabilityDelta: 0,
      meanAbsProbabilityDelta: 0,
      targets: { aucDrop: 0.002, accuracyDrop: 0.005 },
      accepted: 'within-targets',
    },
  };
}

async function maxDiff(x: Float32Array, y: Float32Array): Promise<number> {
  expect(x.length).toBe(y.length);
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
}

describe('quantizing a Siamese model', async () => {
  const ranges = await calibrateSiamese(fp32, [strokeImages(8, 1), strokeImages(8, 2)], { threads: 1 });
  const encoder = exportSiameseCut(graph, weights, 'encoder', { quantize: ranges });
  const stacked = exportSiameseCut(graph, weights, 'pair', { quantize: ranges });
  const separate = exportSiameseCut(graph, weights, 'pair', { quantize: ranges, pairEncoder: 'separate' });

  it('quantizes the pair cut up to its embeddings; the head stays float', () => {
    expect(ranges.images).toBe(16);
    for (const pair of [stacked, separate]) {
      const o = ops(pair);
      expect(o.filter((op) => op === 'QuantizeLinear').length).toBeGreaterThan(10);
      // The head's Gemms read float inputs: no DequantizeLinear of a weight feeds them.
      const m = fromBinary(ModelProtoSchema, pair).graph!;
      const gemms = m.node.filter((n) => n.opType === 'Gemm');
      expect(gemms.length).toBe(2);
      for (const g of gemms) expect(m.initializer.some((t) => t.name === g.input[1])).toBe(true);
    }
  });

  it("onnxruntime fuses every Conv of the int8 pair cut's encoder into QLinearConv", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'siamese-int8-pair-'));
    try {
      const path = join(dir, 'optimized.onnx');
      const s = await InferenceSession.create(stacked, {
        optimizedModelFilePath: path,
        intraOpNumThreads: 1,
        logSeverityLevel: 3,
      });
      await s.release();
      const optimized = ops(new Uint8Array(await readFile(path)));
      expect(optimized).not.toContain('Conv');
      expect(optimized.filter((op) => op === 'QLinearConv').length).toBe(12);
      expect(optimized.filter((op) => /Gemm/.test(op) && !op.startsWith('Q')).length).toBe(2); // the float head
      expect(optimized).not.toContain('QGemm');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to quantize the head cut or an unfolded model, by name', () => {
    expect(() => exportSiameseCut(graph, weights, 'head', { quantize: ranges })).toThrow(
      /the head cut stays fp32 .* quantize the pair or encoder cut/,
    );
    expect(() =>
      exportSiameseCut(graph, weights, 'encoder', { quantize: ranges, foldBatchNorm: false }),
    ).toThrow(/int8 needs BatchNorm folded/);
  });

  const artifact = (onnx: Quantization['onnx']): ModelArtifact => ({
    ...fp32,
    quantization: { precision: 'int8', onnx, record: record(0.25) },
  });

  it('OnnxSiamese runs a quantized artifact in int8: pair cut = int8 embeddings + fp32 head', async () => {
    const withPair = await OnnxSiamese.fromArtifact(artifact({ encoder, pair: stacked }), { threads: 1 });
    const withSeparate = await OnnxSiamese.fromArtifact(artifact({ encoder, pair: separate }), {
      threads: 1,
    });
    const encoderOnly = await OnnxSiamese.fromArtifact(artifact({ encoder }), { threads: 1, batchSize: 4 });
    const asFp32 = await OnnxSiamese.fromArtifact(artifact({ encoder, pair: stacked }), {
      threads: 1,
      precision: 'fp32',
    });
    const reference = await OnnxSiamese.fromArtifact(fp32, { threads: 1 });
    try {
      expect(withPair.precision).toBe('int8');
      expect(withPair.threshold?.probability).toBe(0.25);
      expect(asFp32.precision).toBe('fp32');
      expect(asFp32.threshold?.probability).toBe(0.5);
      const p = (await withPair.score(a, b)).probability;
      expect(await maxDiff(p, (await withSeparate.score(a, b)).probability)).toBeLessThan(1e-5);
      expect(await maxDiff(p, (await encoderOnly.score(a, b)).probability)).toBeLessThan(1e-5);
      const ea = await withPair.embed(a);
      const eb = await withPair.embed(b);
      expect(await maxDiff(p, (await withPair.scoreEmbeddings(ea, eb)).probability)).toBeLessThan(1e-5);
      expect((await withPair.score(a, b)).same).toEqual(Array.from(p, (x) => x >= 0.25));
      // fp32 on request is the fp32 model exactly; int8 is near it but not equal.
      const f = (await reference.score(a, b)).probability;
      expect(await maxDiff(f, (await asFp32.score(a, b)).probability)).toBe(0);
      const e32 = (await reference.embed(a)).data;
      const d = await maxDiff(e32, ea.data as Float32Array);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(0.1 * Math.max(...(e32 as Float32Array)));
    } finally {
      await Promise.all([withPair, withSeparate, encoderOnly, asFp32, reference].map((m) => m.dispose()));
    }
  });

  it("precision 'int8' needs a quantized artifact", async () => {
    await expect(OnnxSiamese.fromArtifact(fp32, { precision: 'int8' })).rejects.toThrow(
      /precision 'int8': the model has no int8 models .*--quantize int8/,
    );
  });
});

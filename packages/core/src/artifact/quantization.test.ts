/**
 * An int8 model folder: the quantized files round-trip with their record, are bound to model.json
 * by their hashes (a swapped or truncated file is refused by name), and a fp32 save never picks up
 * a stale quantized file left in the folder.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWeights } from '../nn/init.js';
import { siamese } from '../nn/siamese.js';
import { loadModel, saveModel } from './file.js';
import { ArtifactError, type ModelArtifact } from './model.js';
import { defaultPreprocessing } from './preprocessing.js';
import type { Quantization } from './quantization.js';

const config = { encoder: 'resnet10_w8', input: { channels: 1, height: 32, width: 32 } } as const;
let dir: string;
let fp32: ModelArtifact;
let int8: ModelArtifact;

const quantization: Quantization = {
  precision: 'int8',
  onnx: { encoder: new Uint8Array([1, 2, 3, 4]), pair: new Uint8Array([5, 6, 7]) },
  record: {
    format: 'QDQ',
    activations: 'uint8 asymmetric per tensor',
    weights: 'int8 symmetric per channel',
    calibration: { method: 'minmax', images: 256, data: "part 'val' of split.json" },
    threshold: { probability: 0.4, method: 'eer' },
    comparison: {
      data: "part 'test' of split.json",
      pairs: 1000,
      fp32: { auc: 0.998, accuracy: 0.98, threshold: 0.42 },
      int8: { auc: 0.9975, accuracy: 0.979, threshold: 0.4 },
      aucDrop: 0.0005,
      accuracyDrop: 0.001,
      maxAbsProbabilityDelta: 0.03,
      meanAbsProbabilityDelta: 0.002,
      targets: { aucDrop: 0.002, accuracyDrop: 0.005 },
      accepted: 'within-targets',
    },
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'siamese-int8-'));
  const graph = siamese(config);
  fp32 = {
    graph,
    config,
    preprocessing: defaultPreprocessing(config.input),
    threshold: { probability: 0.42, method: 'eer' },
    weights: initWeights(graph, 3),
  };
  int8 = { ...fp32, quantization };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function loadError(path: string): Promise<string> {
  const err = await loadModel(path).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ArtifactError);
  return (err as Error).message;
}

describe('int8 model folder', () => {
  it('round-trips the quantized files and their record; the fp32 threshold stays', async () => {
    const out = join(dir, 'ok');
    await saveModel(out, int8);
    const back = await loadModel(out);
    expect(back.quantization?.precision).toBe('int8');
    expect([...back.quantization!.onnx.encoder]).toEqual([1, 2, 3, 4]);
    expect([...back.quantization!.onnx.pair!]).toEqual([5, 6, 7]);
    expect(back.quantization!.record).toEqual(quantization.record);
    expect(back.threshold).toEqual(fp32.threshold);
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    expect(json.quantization.files.encoder).toEqual({
      sha256: '9f64a747e1b97f131fabb6b447296c9b6f0201e79fb3c5356e6c77e89b6a806a',
      bytes: 4,
    });
  });

  it('refuses a quantized file that is not the one recorded, or is missing', async () => {
    const out = join(dir, 'tampered');
    await saveModel(out, int8);
    await writeFile(join(out, 'encoder.int8.onnx'), new Uint8Array([1, 2, 3, 5]));
    expect(await loadError(out)).toMatch(
      /encoder\.int8\.onnx is not the file model\.json's quantization recorded/,
    );
    await rm(join(out, 'encoder.int8.onnx'));
    expect(await loadError(out)).toMatch(/encoder\.int8\.onnx is missing/);
  });

  it('names a bad quantization field', async () => {
    const out = join(dir, 'field');
    await saveModel(out, int8);
    const path = join(out, 'model.json');
    const json = JSON.parse(await readFile(path, 'utf8'));
    json.quantization.precision = 'int4';
    await writeFile(path, JSON.stringify(json));
    expect(await loadError(out)).toMatch(/quantization\.precision must be one of 'int8', got "int4"/);
  });

  it('a fp32 save over an int8 folder is fp32: leftover quantized files are ignored', async () => {
    const out = join(dir, 'resaved');
    await saveModel(out, int8);
    await saveModel(out, fp32);
    const back = await loadModel(out);
    expect(back.quantization).toBeUndefined();
  });
});

import { exportSiameseCut } from '@siamese/backend-onnx';
import { defaultPreprocessing, initWeights, siamese } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { readOnnxInfo } from './onnx-metadata.js';

const input = { channels: 1, height: 16, width: 16 };
const graph = siamese({ encoder: 'resnet10_w8', input });
const weights = initWeights(graph, 1);
const preprocessing = defaultPreprocessing(input);

describe('readOnnxInfo', () => {
  it("reads an exported cut's inputs, outputs and metadata without a protobuf runtime", () => {
    const threshold = { probability: 0.62, method: 'eer' };
    const bytes = exportSiameseCut(graph, weights, 'pair', { metadata: { preprocessing, threshold } });
    const info = readOnnxInfo(bytes, 'pair.onnx');
    expect(info.inputs).toEqual(['x1', 'x2']);
    expect(info.outputs).toEqual(['logit', 'probability']);
    expect(info.metadata.cut).toBe('pair');
    expect(JSON.parse(info.metadata.preprocessing as string)).toEqual(preprocessing);
    expect(JSON.parse(info.metadata.threshold as string)).toEqual(threshold);
    expect(info.metadata.irVersion).toBe('1');
    const encoder = readOnnxInfo(exportSiameseCut(graph, weights, 'encoder'), 'encoder.onnx');
    expect([encoder.inputs, encoder.outputs, encoder.metadata.cut]).toEqual([
      ['image'],
      ['embedding'],
      'encoder',
    ]);
  });

  it('names the file when the bytes are truncated or not ONNX', () => {
    const bytes = exportSiameseCut(graph, weights, 'head');
    expect(() => readOnnxInfo(bytes.subarray(0, bytes.length - 100), 'head.onnx')).toThrow(
      'head.onnx: the ONNX file is truncated',
    );
    expect(() => readOnnxInfo(new TextEncoder().encode('<!doctype html><p>Not found'), 'model.onnx')).toThrow(
      /^model\.onnx: not an ONNX model/,
    );
  });
});

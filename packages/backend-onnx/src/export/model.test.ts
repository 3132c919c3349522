/** The ModelProto itself: header fields, symbolic batch, initializers, metadata, and the errors callers see. */
import { readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { IR_VERSION, initWeights, siamese, type Tensor, WeightsError } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { ModelProtoSchema, TensorProto_DataType } from '../proto/onnx_pb.js';
import { CUT_METADATA_KEY, exportSiameseCut } from './cuts.js';
import { exportOnnx, METADATA_KEYS, ONNX_IR_VERSION, PRODUCER_NAME } from './model.js';

const graph = siamese({
  encoder: 'resnet10_w8',
  input: { channels: 1, height: 16, width: 16 },
  head: { hidden: [8] },
});
const weights = initWeights(graph, 3);
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

describe('exportOnnx', () => {
  const model = fromBinary(
    ModelProtoSchema,
    exportOnnx(graph, weights, { metadata: { threshold: 0.42, preprocessing: { mean: [0.5] }, note: 'hi' } }),
  );
  const g = model.graph!;

  it('writes IR version 8, opset 17 and the producer', () => {
    expect(model.irVersion).toBe(BigInt(ONNX_IR_VERSION));
    expect(model.opsetImport.map((o) => [o.domain, o.version])).toEqual([['', 17n]]);
    expect([model.producerName, model.producerVersion]).toEqual([PRODUCER_NAME, version]);
    expect(model.docString).not.toBe('');
  });

  it('keeps the batch dimension symbolic and every output under its public name', () => {
    const dims =
      g.input[0]!.type!.value.case === 'tensorType' ? g.input[0]!.type!.value.value.shape!.dim : [];
    expect(dims.map((d) => d.value.value)).toEqual(['N', 1n, 16n, 16n]);
    expect(g.input.map((i) => i.name)).toEqual(['x1', 'x2']);
    expect(g.output.map((o) => o.name)).toEqual(['logit', 'probability', 'embeddingA', 'embeddingB']);
  });

  it('stores weights as little-endian raw_data, without the int64 BatchNorm counters', () => {
    expect(g.initializer.some((t) => t.dataType !== TensorProto_DataType.FLOAT)).toBe(false);
    expect(g.initializer.some((t) => t.name.endsWith('num_batches_tracked'))).toBe(false);
    const head = g.initializer.find((t) => t.name === 'head.0.weight')!;
    const want = weights.get('head.0.weight')!;
    expect(head.dims).toEqual(want.shape.map(BigInt));
    const view = new DataView(head.rawData.buffer, head.rawData.byteOffset, head.rawData.byteLength);
    const got = Float32Array.from({ length: head.rawData.length / 4 }, (_, i) =>
      view.getFloat32(i * 4, true),
    );
    expect(got).toEqual(want.data);
  });

  it('puts the IR version, the graph meta and caller entries in metadata_props', () => {
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(meta[METADATA_KEYS.irVersion]).toBe(String(IR_VERSION));
    expect(JSON.parse(meta[METADATA_KEYS.meta]!)).toEqual(graph.meta);
    expect(meta[METADATA_KEYS.graph]).toBe('siamese');
    expect([meta.threshold, meta.preprocessing, meta.note]).toEqual(['0.42', '{"mean":[0.5]}', 'hi']);
  });

  it('refuses metadata keys the exporter owns', () => {
    expect(() => exportOnnx(graph, weights, { metadata: { meta: 'x' } })).toThrow(/'meta' is reserved/);
    expect(() => exportSiameseCut(graph, weights, 'head', { metadata: { [CUT_METADATA_KEY]: 'x' } })).toThrow(
      /reserved/,
    );
  });
});

describe('errors', () => {
  const without = (name: string): Map<string, Tensor> => new Map([...weights].filter(([k]) => k !== name));

  it('names a missing weight', () => {
    for (const run of [
      () => exportOnnx(graph, without('encoder.layer2.0.conv1.weight')),
      () => exportSiameseCut(graph, without('encoder.layer2.0.conv1.weight'), 'encoder'),
      // The head cut reads no encoder weight, but the file is checked as a whole.
      () => exportSiameseCut(graph, without('encoder.layer2.0.conv1.weight'), 'head'),
    ]) {
      expect(run).toThrow(WeightsError);
      expect(run).toThrow(/1 missing tensor \('encoder\.layer2\.0\.conv1\.weight'\)/);
    }
  });

  it('accepts weights without the BatchNorm counters (export does not need them)', () => {
    const counters = [...weights.keys()].filter((k) => k.endsWith('num_batches_tracked'));
    expect(counters.length).toBeGreaterThan(0);
    const trimmed = new Map([...weights].filter(([k]) => !counters.includes(k)));
    expect(exportSiameseCut(graph, trimmed, 'pair').length).toBeGreaterThan(0);
  });

  it('names a weight of the wrong shape, and an unexpected one', () => {
    const wrong = new Map(weights);
    wrong.set('head.0.weight', { dtype: 'float32', shape: [8, 3], data: new Float32Array(24) });
    expect(() => exportOnnx(graph, wrong)).toThrow(
      /'head\.0\.weight' has shape \[8,3\] but the graph expects \[8,64\]/,
    );
    const extra = new Map(weights).set('head.9.weight', weights.get('head.0.weight')!);
    expect(() => exportSiameseCut(graph, extra, 'pair')).toThrow(/unexpected tensor.*'head\.9\.weight'/);
  });

  it('says when a graph is not a Siamese inference graph, or the cut is unknown', () => {
    const notSiamese = { ...graph, outputs: graph.outputs.filter((o) => o.name !== 'embeddingB') };
    expect(() => exportSiameseCut(notSiamese, weights, 'pair')).toThrow(/lacks output 'embeddingB'/);
    expect(() => exportSiameseCut(graph, weights, 'both' as never)).toThrow(/unknown cut 'both'/);
  });
});

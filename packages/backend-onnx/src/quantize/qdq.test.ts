/**
 * The QDQ rewrite on a small ResNet Siamese network: what it writes, onnx.checker's verdict (Debian's
 * python3-onnx, when installed), and the fusion proof: onnxruntime's own optimized graph (written
 * with optimizedModelFilePath) has no float Conv, Gemm or MatMul left, only integer kernels.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { GraphBuilder, initWeights, linear, Random, relu, siamese, type Tensor } from '@siamese/core';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKER_SKIPPED, checkModels, hasOnnx } from '../export/__fixtures__/onnx-checker.js';
import { exportSiameseCut } from '../export/cuts.js';
import { exportOnnx } from '../export/model.js';
import { type ModelProto, ModelProtoSchema, TensorProto_DataType } from '../proto/onnx_pb.js';
import { SIZE, strokeImages, trainedLooking } from './__fixtures__/synthetic.js';
import { calibrate } from './calibrate.js';
import { QUANTIZATION_METADATA_KEY, quantizeQdq } from './qdq.js';

const graph = siamese({
  encoder: 'resnet10_w8',
  input: { channels: 1, height: SIZE, width: SIZE },
  head: { hidden: [16] },
});
const weights = trainedLooking(graph, 5);
const CONVS = 12;

/** |N(0, 1)| values: embeddings come out of a Relu and a global average pool. */
function positive(shape: number[], seed: number): Tensor<'float32'> {
  const rng = new Random(seed);
  const data = Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => Math.abs(rng.normal()));
  return { dtype: 'float32', shape, data };
}
const embeddings = (n: number, seed: number) => positive([n, 64], seed);

/** A two-layer MLP on [N, 3, 8] inputs: linear lowers to MatMul + Add when the input is not rank 2. */
function matmulModel(): Uint8Array {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', ['N', 3, 8]);
  b.output('y', linear(b, 'fc2', relu(b, linear(b, 'fc1', x, 8, 6)), 6, 4));
  const g = b.build();
  return exportOnnx(g, initWeights(g, 2));
}

const decode = (bytes: Uint8Array): ModelProto => fromBinary(ModelProtoSchema, bytes);

function opCounts(model: ModelProto): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of model.graph!.node) {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    counts[op] = (counts[op] ?? 0) + 1;
  }
  return counts;
}

let dir = '';
/** The graph onnxruntime actually runs: its optimizer's output at `level`, as op counts. */
async function optimizedOps(
  model: Uint8Array,
  level: 'extended' | 'all' = 'all',
): Promise<Record<string, number>> {
  const path = join(dir, `optimized-${Math.random().toString(36).slice(2)}.onnx`);
  const s = await InferenceSession.create(model, {
    graphOptimizationLevel: level,
    optimizedModelFilePath: path,
    intraOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  await s.release();
  return opCounts(decode(new Uint8Array(await readFile(path))));
}

const fp32 = {
  encoder: exportSiameseCut(graph, weights, 'encoder'),
  head: exportSiameseCut(graph, weights, 'head'),
  pair: exportSiameseCut(graph, weights, 'pair'),
  separate: exportSiameseCut(graph, weights, 'pair', { pairEncoder: 'separate' }),
  matmul: matmulModel(),
};
const pairs = [0, 1].map((i) => ({ x1: strokeImages(4, 20 + i), x2: strokeImages(4, 30 + i) }));
const int8 = {} as Record<keyof typeof fp32, Uint8Array>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'siamese-qdq-'));
  const batches = {
    encoder: [strokeImages(8, 1), strokeImages(8, 2)],
    head: [{ embeddingA: embeddings(8, 3), embeddingB: embeddings(8, 4) }],
    pair: pairs,
    separate: pairs,
    matmul: [positive([4, 3, 8], 5)],
  };
  for (const k of Object.keys(fp32) as (keyof typeof fp32)[]) {
    int8[k] = quantizeQdq(fp32[k], await calibrate(fp32[k], batches[k], { threads: 1 }));
  }
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('quantizeQdq: the rewritten encoder', () => {
  it('reads every Conv input through a DequantizeLinear: uint8 activations, int8 weights, int32 biases', () => {
    const m = decode(int8.encoder);
    const g = m.graph!;
    const init = new Map(g.initializer.map((t) => [t.name, t]));
    const producer = new Map(g.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const convs = g.node.filter((n) => n.opType === 'Conv');
    expect(convs).toHaveLength(CONVS);
    for (const conv of convs) {
      const [x, w, b] = conv.input.map((i) => producer.get(i)!);
      for (const dq of [x, w, b]) expect(dq?.opType).toBe('DequantizeLinear');
      expect(init.get(x!.input[2]!)!.dataType).toBe(TensorProto_DataType.UINT8);
      const weight = init.get(w!.input[0]!)!;
      expect(weight.dataType).toBe(TensorProto_DataType.INT8);
      // One scale and a zero zero point per output channel, on axis 0.
      expect(init.get(w!.input[1]!)!.dims).toEqual([weight.dims[0]]);
      expect(Array.from(init.get(w!.input[2]!)!.rawData)).toEqual(new Array(Number(weight.dims[0])).fill(0));
      expect(w!.attribute.find((a) => a.name === 'axis')?.i).toBe(0n);
      expect(init.get(b!.input[0]!)!.dataType).toBe(TensorProto_DataType.INT32);
      // One DequantizeLinear per reader: onnxruntime fuses only those.
      expect(g.node.filter((n) => n.input.includes(x!.output[0]!))).toHaveLength(1);
    }
    // No float weight is left; the interface is unchanged.
    expect(
      g.initializer.filter((t) => t.dataType === TensorProto_DataType.FLOAT && t.dims.length > 1),
    ).toEqual([]);
    expect(g.input.map((i) => i.name)).toEqual(['image']);
    expect(g.output.map((o) => [o.name, producer.get(o.name)!.opType])).toEqual([
      ['embedding', 'DequantizeLinear'],
    ]);
    expect(m.opsetImport).toEqual(decode(fp32.encoder).opsetImport);
    expect(JSON.parse(m.metadataProps.find((p) => p.key === QUANTIZATION_METADATA_KEY)!.value)).toMatchObject(
      {
        format: 'QDQ',
        method: 'minmax',
        images: 16,
      },
    );
    expect(m.metadataProps.find((p) => p.key === 'cut')?.value).toBe('encoder');
  });

  it('gives each Relu output zero point 0, so onnxruntime can drop the Relu', () => {
    const g = decode(int8.encoder).graph!;
    const init = new Map(g.initializer.map((t) => [t.name, t]));
    const relus = g.node.filter((n) => n.opType === 'Relu');
    expect(relus.length).toBeGreaterThan(0);
    for (const r of relus) {
      const q = g.node.find((n) => n.opType === 'QuantizeLinear' && n.input[0] === r.output[0])!;
      expect(Array.from(init.get(q.input[2]!)!.rawData)).toEqual([0]);
    }
  });

  it('stores a weight shared by both passes of a pair model once, with a DequantizeLinear per reader', () => {
    const g = decode(int8.separate).graph!;
    const names = g.initializer.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect(
      g.initializer.filter((t) => t.dataType === TensorProto_DataType.INT8 && t.dims.length === 4),
    ).toHaveLength(CONVS);
    expect(g.node.filter((n) => n.opType === 'Conv')).toHaveLength(2 * CONVS);
  });

  it('is deterministic: the same model and ranges give the same bytes', async () => {
    const again = await calibrate(fp32.encoder, [strokeImages(8, 1), strokeImages(8, 2)], { threads: 1 });
    expect(quantizeQdq(fp32.encoder, again)).toEqual(int8.encoder);
  });
});

describe('onnxruntime fuses every group into integer kernels (its optimized graph)', () => {
  it('encoder: 12 QLinearConv, QLinearAdd, QLinearGlobalAveragePool; no float Conv; one Q in, one DQ out', async () => {
    const before = await optimizedOps(fp32.encoder);
    expect(before['com.microsoft.nchwc.Conv']).toBe(CONVS);
    for (const level of ['extended', 'all'] as const) {
      const after = await optimizedOps(int8.encoder, level);
      const qlinearConv = (after.QLinearConv ?? 0) + (after['com.microsoft.QLinearConv'] ?? 0);
      expect(qlinearConv, JSON.stringify(after)).toBe(CONVS);
      expect(Object.keys(after).filter((op) => /(^|\.)(Fused)?Conv$/.test(op))).toEqual([]);
      expect(after['com.microsoft.QLinearAdd']).toBe(4);
      expect(after['com.microsoft.QLinearGlobalAveragePool']).toBe(1);
      expect([after.QuantizeLinear, after.DequantizeLinear]).toEqual([1, 1]);
      expect(after.Relu).toBeUndefined();
    }
  });

  it('head: both Gemms become QGemm', async () => {
    const after = await optimizedOps(int8.head);
    expect(after['com.microsoft.QGemm']).toBe(2);
    expect(Object.keys(after).filter((op) => /Gemm$/.test(op) && op !== 'com.microsoft.QGemm')).toEqual([]);
  });

  it('pair: the stacked encoder and the head are all integer kernels', async () => {
    const after = await optimizedOps(int8.pair);
    expect(after['com.microsoft.QLinearConv']).toBe(CONVS);
    expect(after['com.microsoft.QGemm']).toBe(2);
    expect(Object.keys(after).filter((op) => /(Conv|Gemm)$/.test(op) && !op.includes('.Q'))).toEqual([]);
  });

  it('MatMul with a constant weight becomes MatMulIntegerToFloat', async () => {
    const after = await optimizedOps(int8.matmul);
    expect(after['com.microsoft.MatMulIntegerToFloat']).toBe(2);
    expect(after.MatMul).toBeUndefined();
  });

  it('the int8 pair model scores like the fp32 one', async () => {
    const run = async (model: Uint8Array) => {
      const s = await InferenceSession.create(model, { intraOpNumThreads: 1, logSeverityLevel: 3 });
      const feeds = Object.fromEntries(
        Object.entries(pairs[0]!).map(([k, t]) => [
          k,
          new OrtTensor('float32', t.data as Float32Array, [...t.shape]),
        ]),
      );
      const p = (await s.run(feeds)).probability!.data as Float32Array;
      await s.release();
      return p;
    };
    const [a, b] = [await run(fp32.pair), await run(int8.pair)];
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(0.02);
  });
});

describe('quantizeQdq refuses', () => {
  const ranges = () => calibrate(fp32.encoder, [strokeImages(2, 1)], { threads: 1 });

  it('a model that is already quantized', async () => {
    expect(() => quantizeQdq(int8.encoder, { method: 'minmax', images: 1, ranges: new Map() })).toThrow(
      /^quantizeQdq: the model is already quantized \(node '.*' is a (Q|Deq)uantizeLinear\); pass the fp32 export$/,
    );
    await expect(calibrate(int8.encoder, [strokeImages(2, 1)])).rejects.toThrow(
      /^calibrate: the model is already quantized/,
    );
  });

  it('ranges that miss a value the rewrite quantizes, naming it', async () => {
    const r = await ranges();
    const partial = new Map(r.ranges);
    partial.delete('a/encoder.layer2.0.relu');
    expect(() => quantizeQdq(fp32.encoder, { ...r, ranges: partial })).toThrow(
      /^quantizeQdq: no calibrated range for 'a\/encoder.layer2.0.relu' \(\d+ values need one\); calibrate this same model$/,
    );
    // Ranges of another model (the head's) miss the encoder's values.
    const head = await calibrate(fp32.head, [{ embeddingA: embeddings(2, 1), embeddingB: embeddings(2, 2) }]);
    expect(() => quantizeQdq(fp32.encoder, head)).toThrow(/no calibrated range for 'image'/);
  });

  it('a range that is not finite, and bytes that are not a model', async () => {
    const r = await ranges();
    const bad = new Map(r.ranges).set('image', { min: Number.NaN, max: 1 });
    expect(() => quantizeQdq(fp32.encoder, { ...r, ranges: bad })).toThrow(
      /^quantizeQdq: the range of 'image' is unusable/,
    );
    expect(() => quantizeQdq(Uint8Array.of(1, 2, 3), r)).toThrow(
      /^quantizeQdq: the bytes are not an ONNX model/,
    );
  });
});

describe.skipIf(!hasOnnx)(
  hasOnnx ? 'onnx.checker.check_model(full_check=True) on the QDQ models' : CHECKER_SKIPPED,
  () => {
    it('accepts the int8 encoder, head, pair (stacked and separate) and MatMul models', async () => {
      const verdicts = await checkModels(Object.entries(int8), dir);
      expect(verdicts).toEqual(Object.fromEntries(Object.keys(int8).map((n) => [n, 'ok'])));
    });
  },
);

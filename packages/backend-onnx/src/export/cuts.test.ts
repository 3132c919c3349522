/**
 * A whole tiny Siamese network through the three cuts in onnxruntime: they agree with each other,
 * with the plain export of the full graph, with and without BatchNorm folding, at batch 1 and 5.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { type Graph, initWeights, Random, siamese, type Tensor } from '@siamese/core';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelProtoSchema } from '../proto/onnx_pb.js';
import { exportSiameseCut, SIAMESE_CUTS, STACK_ENCODER_MAX_VALUES, stacksEncoder } from './cuts.js';
import { exportOnnx } from './model.js';

const INPUT = { channels: 1, height: 32, width: 32 };
const graph = siamese({ encoder: 'resnet10_w8', input: INPUT });

/** initWeights gives BatchNorm mean 0 / var 1 / gamma 1 / beta 0; random statistics make folding do real work. */
function trainedLooking(g: Graph): Map<string, Tensor> {
  const weights = initWeights(g, 1);
  const rng = new Random(7);
  for (const [name, t] of weights) {
    if (t.dtype !== 'float32' || !/\.(bn\d|downsample\.1)\./.test(name)) continue;
    const d = t.data as Float32Array;
    const kind = name.slice(name.lastIndexOf('.') + 1);
    for (let i = 0; i < d.length; i++) {
      const u = rng.uniform();
      d[i] = kind === 'running_var' || kind === 'weight' ? 0.5 + u : (u - 0.5) * 0.4;
    }
  }
  return weights;
}
const weights = trainedLooking(graph);

function images(n: number, seed: number): OrtTensor {
  const rng = new Random(seed);
  const size = n * INPUT.channels * INPUT.height * INPUT.width;
  const data = Float32Array.from({ length: size }, () => rng.normal());
  return new OrtTensor('float32', data, [n, INPUT.channels, INPUT.height, INPUT.width]);
}

async function runModel(
  model: Uint8Array,
  feeds: Record<string, OrtTensor>,
): Promise<Record<string, Float32Array>> {
  const session = await InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

const opTypes = (model: Uint8Array): string[] =>
  fromBinary(ModelProtoSchema, model).graph!.node.map((n) => n.opType);

describe('Siamese cuts in onnxruntime', () => {
  const models = {} as Record<(typeof SIAMESE_CUTS)[number], Uint8Array>;
  const [x1, x2] = [images(5, 11), images(5, 12)];
  let pair: Record<string, Float32Array>;

  beforeAll(async () => {
    for (const cut of SIAMESE_CUTS) models[cut] = exportSiameseCut(graph, weights, cut);
    pair = await runModel(models.pair, { x1, x2 });
  });

  it('pair: runs the encoder once over both images and folds every BatchNorm', () => {
    const ops = opTypes(models.pair);
    expect(ops.filter((o) => o === 'Conv').length).toBe(
      graph.nodes.filter((n) => n.op === 'conv2d').length / 2,
    );
    expect(ops).toContain('Split');
    expect(ops).not.toContain('BatchNormalization');
    expect(pair.logit!.length).toBe(5);
    expect(pair.probability!.every((p) => p > 0 && p < 1)).toBe(true);
  });

  it('pair: runs the encoder once per image when asked, or for large images, with the same result', async () => {
    const separate = exportSiameseCut(graph, weights, 'pair', { pairEncoder: 'separate' });
    const ops = opTypes(separate);
    expect(ops.filter((o) => o === 'Conv').length).toBe(graph.nodes.filter((n) => n.op === 'conv2d').length);
    expect(ops).not.toContain('Split');
    // Both passes share one copy of every weight.
    const model = fromBinary(ModelProtoSchema, separate);
    expect(new Set(model.graph!.initializer.map((i) => i.name)).size).toBe(model.graph!.initializer.length);
    expect(model.graph!.initializer.length).toBe(
      fromBinary(ModelProtoSchema, models.pair).graph!.initializer.length,
    );
    const out = await runModel(separate, { x1, x2 });
    expect(maxDiff(out.logit!, pair.logit!)).toBeLessThan(1e-5);
    // 'auto' stacks 1x32x32 images but not 3x224x224 ones.
    expect(stacksEncoder(graph, {})).toBe(true);
    const big = siamese({ encoder: 'resnet10_w8', input: { channels: 3, height: 224, width: 224 } });
    expect(3 * 224 * 224).toBeGreaterThan(STACK_ENCODER_MAX_VALUES);
    expect(stacksEncoder(big, {})).toBe(false);
    expect(stacksEncoder(big, { pairEncoder: 'stacked' })).toBe(true);
  });

  it('encoder + head give the pair logit', async () => {
    const ea = (await runModel(models.encoder, { image: x1 })).embedding!;
    const eb = (await runModel(models.encoder, { image: x2 })).embedding!;
    const d = ea.length / 5;
    const head = await runModel(models.head, {
      embeddingA: new OrtTensor('float32', ea, [5, d]),
      embeddingB: new OrtTensor('float32', eb, [5, d]),
    });
    expect(maxDiff(head.logit!, pair.logit!)).toBeLessThan(1e-5);
    expect(maxDiff(head.probability!, pair.probability!)).toBeLessThan(1e-5);
  });

  it('absdiff is symmetric: score(a, b) == score(b, a)', async () => {
    const swapped = await runModel(models.pair, { x1: x2, x2: x1 });
    expect(maxDiff(swapped.logit!, pair.logit!)).toBeLessThan(1e-5);
  });

  it('agrees with the plain (two-encoder, unfolded) export of the whole graph', async () => {
    const full = await runModel(exportOnnx(graph, weights, { foldBatchNorm: false }), { x1, x2 });
    expect(maxDiff(full.logit!, pair.logit!)).toBeLessThan(1e-5);
    const enc = (await runModel(models.encoder, { image: x1 })).embedding!;
    expect(maxDiff(full.embeddingA!, enc)).toBeLessThan(1e-5);
  });

  it('BatchNorm folding changes no output beyond 1e-5', async () => {
    for (const cut of ['pair', 'encoder'] as const) {
      const unfolded = exportSiameseCut(graph, weights, cut, { foldBatchNorm: false });
      expect(opTypes(unfolded)).toContain('BatchNormalization');
      const feeds: Record<string, OrtTensor> = cut === 'pair' ? { x1, x2 } : { image: x1 };
      const [a, b] = [await runModel(unfolded, feeds), await runModel(models[cut], feeds)];
      for (const k of Object.keys(a)) expect(maxDiff(a[k]!, b[k]!), `${cut}.${k}`).toBeLessThan(1e-5);
    }
  });

  it('the batch dimension is dynamic: batches of 1 and 5 run', async () => {
    const one = await runModel(models.pair, { x1: images(1, 21), x2: images(1, 22) });
    expect(one.logit!.length).toBe(1);
    const first = await runModel(models.pair, {
      x1: new OrtTensor('float32', (x1.data as Float32Array).slice(0, 1024), [1, 1, 32, 32]),
      x2: new OrtTensor('float32', (x2.data as Float32Array).slice(0, 1024), [1, 1, 32, 32]),
    });
    expect(Math.abs(first.logit![0]! - pair.logit![0]!)).toBeLessThan(1e-5);
  });
});

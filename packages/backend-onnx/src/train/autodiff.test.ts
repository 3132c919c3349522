/**
 * Every VJP rule in core's table against central finite differences, through onnxruntime: for each
 * op, loss = sum(op(params...) * r) with a fixed random r, the IR gradient (core `grad`, lowered to
 * ONNX) must match (loss(p + h) - loss(p - h)) / 2h at each element of each parameter.
 */

import { createRequire } from 'node:module';
import {
  ARCFACE_SINE2_EPS,
  arcfaceConstants,
  type Graph,
  GraphBuilder,
  grad,
  initWeights,
  Random,
  type Shape,
  trainingForm,
  type Value,
} from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { trainingModel } from './step-model.js';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

interface Case {
  readonly name: string;
  /** Parameters (differentiated) with their values. */
  readonly params: Record<string, { shape: number[]; data: number[] | Float32Array }>;
  /** Non-differentiated inputs. */
  readonly inputs?: Record<string, { shape: number[]; data: number[] | Float32Array }>;
  readonly build: (b: GraphBuilder, v: Record<string, Value>) => Value;
  /** Rewrite to the training form first (batchNorm, dropout). */
  readonly train?: boolean;
  readonly tol?: number;
  /** Finite-difference step; small where a larger one would move an argmax. */
  readonly h?: number;
}

const size = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);
/** Values in ±(0.2..1.2), no two alike: away from kinks (relu, abs, clamp) and pooling ties. */
function spread(shape: number[], seed: number): { shape: number[]; data: Float32Array } {
  const r = new Random(seed);
  const n = size(shape);
  const data = Float32Array.from(
    { length: n },
    (_, i) => (r.uniform() < 0.5 ? -1 : 1) * (0.2 + (i + r.uniform() * 0.5) / n),
  );
  return { shape, data };
}
const positive = (shape: number[], seed: number) => ({ shape, data: spread(shape, seed).data.map(Math.abs) });

function graphFor(c: Case): Graph {
  const b = new GraphBuilder(c.name);
  const v: Record<string, Value> = {};
  for (const [k, t] of Object.entries(c.inputs ?? {})) v[k] = b.input(k, 'float32', t.shape);
  for (const [k, t] of Object.entries(c.params)) v[k] = b.param(k, t.shape, { kind: 'zeros' });
  const y = c.build(b, v);
  const r = b.input('r', 'float32', y.shape as Shape);
  const loss = b.op('reduceSum', [b.op('mul', [y, r], {}, 'weighted')], {}, 'loss');
  b.output('loss', loss);
  return b.build();
}

async function run(
  model: ReturnType<typeof trainingModel>,
  feeds: Record<string, { shape: readonly number[]; data: Float32Array }>,
) {
  const session = await ort.InferenceSession.create(model.bytes, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'basic',
  });
  return {
    async eval(over: Record<string, Float32Array> = {}) {
      const f: Record<string, import('onnxruntime-node').Tensor> = {};
      for (const n of [...model.dataInputs, ...model.stateInputs]) {
        const t = feeds[n]!;
        f[n] = new ort.Tensor('float32', over[n] ?? t.data, [...t.shape]);
      }
      return session.run(f);
    },
    release: () => session.release(),
  };
}

async function check(c: Case): Promise<void> {
  let g = graphFor(c);
  const form = c.train ? trainingForm(g) : undefined;
  if (form) g = form.graph;
  const { graph: withGrads, gradients } = grad(g);
  const model = trainingModel(
    withGrads,
    withGrads.outputs.map((o) => o.name),
    'test',
  );
  const y = g.outputs.find((o) => o.name === 'loss')!;
  const rShape = g.inputs.find((i) => i.name === 'r')!.shape as number[];
  const feeds: Record<string, { shape: readonly number[]; data: Float32Array }> = {
    r: spread(rShape.length ? rShape : [], 99),
  };
  if (rShape.length === 0) feeds.r = { shape: [], data: Float32Array.of(0.7) };
  for (const [k, t] of initWeights(g, 0))
    feeds[k] = { shape: t.shape as number[], data: t.data as Float32Array };
  for (const [k, t] of Object.entries({ ...c.inputs, ...c.params }))
    feeds[k] = { shape: t.shape, data: Float32Array.from(t.data) };
  for (const i of form?.dropoutMasks ?? []) {
    const shape = i.shape as number[];
    feeds[i.input] = {
      shape,
      data: Float32Array.from({ length: size(shape) }, (_, k) => (k % 3 === 0 ? 0 : 2)),
    };
  }
  expect(y).toBeDefined();
  const s = await run(model, feeds);
  try {
    const out = await s.eval();
    const h = c.h ?? 1e-2;
    for (const [k, t] of Object.entries(c.params)) {
      const analytic = out[gradients.get(k)!]!.data as Float32Array;
      const base = Float32Array.from(t.data);
      for (let i = 0; i < base.length; i++) {
        const plus = base.slice();
        plus[i] = base[i]! + h;
        const minus = base.slice();
        minus[i] = base[i]! - h;
        const lp = ((await s.eval({ [k]: plus })).loss!.data as Float32Array)[0]!;
        const lm = ((await s.eval({ [k]: minus })).loss!.data as Float32Array)[0]!;
        const numeric = (lp - lm) / (2 * h);
        const tol = (c.tol ?? 2e-3) * Math.max(1, Math.abs(numeric));
        expect(
          Math.abs(analytic[i]! - numeric),
          `${c.name}: d loss / d ${k}[${i}] = ${analytic[i]} vs finite difference ${numeric}`,
        ).toBeLessThanOrEqual(tol);
      }
    }
  } finally {
    await s.release();
  }
}

const conv = (
  name: string,
  x: number[],
  w: number[],
  attrs: Record<string, unknown>,
  bias = false,
): Case => ({
  name,
  params: { x: spread(x, 1), w: spread(w, 2), ...(bias ? { bias: spread([w[0]!], 3) } : {}) },
  build: (b, v) => b.op('conv2d', [v.x, v.w, v.bias], attrs),
});

/** Cosines [4, 3] away from arcface's threshold and easyMargin's 0; targets (labels 2, 0, 2, 1): 0.74, -0.13, -0.95, 0.12. */
const IDENTITY_COS = {
  shape: [4, 3],
  data: [0.31, -0.52, 0.74, -0.13, 0.66, -0.71, 0.45, -0.28, -0.95, 0.58, 0.12, -0.39],
};
const IDENTITY_LABELS = { shape: [4], data: [2, 0, 2, 1] };

const CASES: Case[] = [
  conv('conv2d 3x3 stride 1 pad 1 bias', [2, 2, 5, 5], [3, 2, 3, 3], { padding: 1 }, true),
  conv('conv2d 3x3 stride 2 pad 1 odd (drops a row)', [1, 2, 6, 6], [2, 2, 3, 3], { stride: 2, padding: 1 }),
  conv('conv2d 1x1 stride 2', [2, 3, 5, 5], [2, 3, 1, 1], { stride: 2 }),
  conv('conv2d 7x7 stride 2 pad 3', [1, 1, 9, 9], [2, 1, 7, 7], { stride: 2, padding: 3 }),
  conv('conv2d dilation 2', [1, 2, 7, 7], [2, 2, 3, 3], { padding: 2, dilation: 2 }),
  conv('conv2d groups 2', [1, 4, 5, 5], [4, 2, 3, 3], { padding: 1, groups: 2 }),
  {
    name: 'batchNorm (train form)',
    params: { x: spread([3, 2, 3, 3], 4), w: spread([2], 5), bias: spread([2], 6) },
    build: (b, v) => {
      const rm = b.buffer('rm', [2], { kind: 'zeros' });
      const rv = b.buffer('rv', [2], { kind: 'ones' });
      return b.op('batchNorm', [v.x, v.w, v.bias, rm, rv]);
    },
    train: true,
    tol: 5e-3,
  },
  { name: 'relu', params: { x: spread([2, 6], 7) }, build: (b, v) => b.op('relu', [v.x]) },
  {
    name: 'maxPool2d 3x3 s2 p1',
    params: { x: spread([1, 2, 7, 7], 8) },
    build: (b, v) => b.op('maxPool2d', [v.x], { kernel: 3, stride: 2, padding: 1 }),
    h: 1e-3,
    tol: 1e-2,
  },
  {
    name: 'globalAvgPool',
    params: { x: spread([2, 3, 3, 4], 9) },
    build: (b, v) => b.op('globalAvgPool', [v.x]),
  },
  { name: 'flatten', params: { x: spread([2, 3, 2, 2], 10) }, build: (b, v) => b.op('flatten', [v.x]) },
  {
    name: 'linear',
    params: { x: spread([3, 4], 11), w: spread([5, 4], 12), bias: spread([5], 13) },
    build: (b, v) => b.op('linear', [v.x, v.w, v.bias]),
  },
  {
    name: 'dropout (train form mask)',
    params: { x: spread([2, 6], 14) },
    build: (b, v) => b.op('dropout', [v.x], { p: 0.5 }),
    train: true,
  },
  {
    name: 'add broadcast',
    params: { a: spread([3, 4], 15), c: spread([4], 16) },
    build: (b, v) => b.op('add', [v.a, v.c]),
  },
  {
    name: 'sub broadcast',
    params: { a: spread([3, 1], 17), c: spread([3, 4], 18) },
    build: (b, v) => b.op('sub', [v.a, v.c]),
  },
  {
    name: 'mul broadcast',
    params: { a: spread([2, 3, 4], 19), c: spread([3, 1], 20) },
    build: (b, v) => b.op('mul', [v.a, v.c]),
  },
  {
    name: 'div broadcast',
    params: { a: spread([3, 4], 21), c: positive([1, 4], 22) },
    build: (b, v) => b.op('div', [v.a, v.c]),
    tol: 1e-2,
  },
  { name: 'abs', params: { x: spread([8], 23) }, build: (b, v) => b.op('abs', [v.x]) },
  { name: 'sigmoid', params: { x: spread([8], 24) }, build: (b, v) => b.op('sigmoid', [v.x]) },
  { name: 'sqrt', params: { x: positive([8], 25) }, build: (b, v) => b.op('sqrt', [v.x]), tol: 1e-2 },
  { name: 'exp', params: { x: spread([8], 26) }, build: (b, v) => b.op('exp', [v.x]) },
  {
    name: 'scale',
    params: { x: spread([8], 27) },
    build: (b, v) => b.op('scale', [v.x], { alpha: -1.5, beta: 0.25 }),
  },
  {
    name: 'clamp',
    params: { x: spread([12], 28) },
    build: (b, v) => b.op('clamp', [v.x], { min: -0.5, max: 0.5 }),
  },
  {
    name: 'reluGrad (wrt a)',
    params: { a: spread([2, 4], 29) },
    inputs: { g: spread([2, 4], 30) },
    build: (b, v) => b.op('reluGrad', [v.a, v.g]),
  },
  {
    name: 'concat',
    params: { a: spread([2, 3], 31), c: spread([2, 2], 32) },
    build: (b, v) => b.op('concat', [v.a, v.c], { axis: 1 }),
  },
  {
    name: 'reshapeLike',
    params: { x: spread([2, 6], 33) },
    inputs: { like: spread([2, 3, 2], 34) },
    build: (b, v) => b.op('reshapeLike', [v.x, v.like]),
  },
  {
    name: 'sumTo',
    params: { x: spread([2, 3, 4], 35) },
    inputs: { like: spread([3, 1], 36) },
    build: (b, v) => b.op('sumTo', [v.x, v.like]),
  },
  {
    name: 'reduceMean axes [0,2] keepDims',
    params: { x: spread([2, 3, 4], 37) },
    build: (b, v) => b.op('reduceMean', [v.x], { axes: [0, 2], keepDims: true }),
  },
  { name: 'reduceSum all', params: { x: spread([2, 3], 38) }, build: (b, v) => b.op('reduceSum', [v.x]) },
  {
    name: 'reduceMean axis 1',
    params: { x: spread([3, 4], 39) },
    build: (b, v) => b.op('reduceMean', [v.x], { axes: [1] }),
  },
  {
    name: 'l2Normalize',
    params: { x: spread([3, 4], 40) },
    build: (b, v) => b.op('l2Normalize', [v.x], { axis: 1 }),
  },
  {
    name: 'euclideanDistance',
    params: { a: spread([3, 4], 41), c: spread([3, 4], 42) },
    build: (b, v) => b.op('euclideanDistance', [v.a, v.c]),
  },
  {
    name: 'cosineSimilarity',
    params: { a: spread([3, 4], 43), c: spread([3, 4], 44) },
    build: (b, v) => b.op('cosineSimilarity', [v.a, v.c]),
  },
  {
    name: 'bceWithLogits',
    params: { z: spread([4, 1], 45) },
    inputs: { t: { shape: [4, 1], data: [1, 0, 1, 0] } },
    build: (b, v) => b.op('bceWithLogits', [v.z, v.t]),
  },
  {
    name: 'contrastiveLoss (both sides of the margin)',
    params: { d: { shape: [4, 1], data: [0.3, 1.4, 0.6, 0.8] } },
    inputs: { y: { shape: [4, 1], data: [1, 0, 0, 1] } },
    build: (b, v) => b.op('contrastiveLoss', [v.d, v.y], { margin: 1 }),
  },
  {
    name: 'tripletLoss',
    params: { a: spread([3, 4], 46), p: spread([3, 4], 47), n: spread([3, 4], 48) },
    // A margin every row's hinge clears: finite differences across the kink would average two slopes.
    // and one anchor sits close to its negative, where the distance curves fast: a small step.
    build: (b, v) => b.op('tripletLoss', [v.a, v.p, v.n], { margin: 10 }),
    h: 1e-3,
    tol: 1e-2,
  },
  {
    name: 'marginLogits normface',
    params: { cos: IDENTITY_COS },
    inputs: { labels: IDENTITY_LABELS },
    build: (b, v) => b.op('marginLogits', [v.cos, v.labels], { kind: 'normface', scale: 8 }),
  },
  {
    name: 'marginLogits cosface',
    params: { cos: IDENTITY_COS },
    inputs: { labels: IDENTITY_LABELS },
    build: (b, v) => b.op('marginLogits', [v.cos, v.labels], { kind: 'cosface', scale: 8, margin: 0.35 }),
  },
  {
    // Targets 0.74, -0.13, 0.12 take phi; -0.95 is below cos(pi - 0.5) = -0.878: the linear fallback.
    name: 'marginLogits arcface (phi and the fallback)',
    params: { cos: IDENTITY_COS },
    inputs: { labels: IDENTITY_LABELS },
    build: (b, v) => b.op('marginLogits', [v.cos, v.labels], { kind: 'arcface', scale: 8, margin: 0.5 }),
    h: 1e-3,
    tol: 1e-2,
  },
  {
    // Targets 0.74 and 0.12 take phi; -0.13 and -0.95 keep their cosine.
    name: 'marginLogits arcface easyMargin',
    params: { cos: IDENTITY_COS },
    inputs: { labels: IDENTITY_LABELS },
    build: (b, v) =>
      b.op('marginLogits', [v.cos, v.labels], { kind: 'arcface', scale: 8, margin: 0.3, easyMargin: true }),
    h: 1e-3,
    tol: 1e-2,
  },
  {
    name: 'softmaxCrossEntropy',
    params: { z: spread([4, 3], 49) },
    inputs: { labels: IDENTITY_LABELS },
    build: (b, v) => b.op('softmaxCrossEntropy', [v.z, v.labels]),
  },
  {
    name: 'softmax axis 1',
    params: { x: spread([3, 4], 50) },
    build: (b, v) => b.op('softmax', [v.x], { axis: 1 }),
  },
  {
    name: 'softmax axis 0 rank 3',
    params: { x: spread([3, 2, 2], 51) },
    build: (b, v) => b.op('softmax', [v.x], { axis: 0 }),
  },
  {
    // The loss of NormFace / CosFace / ArcFace: margin logits into softmax cross-entropy.
    name: 'marginLogits arcface into softmaxCrossEntropy',
    params: { cos: IDENTITY_COS },
    inputs: { labels: IDENTITY_LABELS },
    build: (b, v) =>
      b.op('softmaxCrossEntropy', [
        b.op('marginLogits', [v.cos, v.labels], { kind: 'arcface', scale: 8, margin: 0.5 }),
        v.labels,
      ]),
    h: 1e-3,
    tol: 1e-2,
  },
];

describe('VJP rules against finite differences (onnxruntime cpu)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await check(c);
  });
});

/** The float32 next to `x` toward +infinity (up) or -infinity. */
function nextFloat32(x: number, up: boolean): number {
  const f = new Float32Array([x]);
  const bits = new Int32Array(f.buffer);
  bits[0]! += x >= 0 === up ? 1 : -1;
  return f[0]!;
}

describe('marginLogits VJP at its edges (onnxruntime cpu)', () => {
  /** d sum(marginLogits(cos) * r) / d cos for one column (every row's target), against the documented slope. */
  async function edges(
    attrs: { margin: number; easyMargin: boolean },
    targets: number[],
    phiWhere: (t: number) => boolean,
  ) {
    const s = 30;
    const k = arcfaceConstants(attrs.margin);
    const n = targets.length;
    const c: Case = {
      name: 'edges',
      params: { cos: { shape: [n, 1], data: targets } },
      inputs: { labels: { shape: [n], data: new Array<number>(n).fill(0) } },
      build: (b, v) => b.op('marginLogits', [v.cos, v.labels], { kind: 'arcface', scale: s, ...attrs }),
    };
    const g = graphFor(c);
    const { graph: withGrads, gradients } = grad(g);
    const model = trainingModel(
      withGrads,
      withGrads.outputs.map((o) => o.name),
      'test',
    );
    const r = spread([n, 1], 99);
    const s32 = await run(model, {
      r,
      cos: { shape: [n, 1], data: Float32Array.from(targets) },
      labels: { shape: [n], data: new Float32Array(n) },
    });
    try {
      const got = (await s32.eval())[gradients.get('cos')!]!.data as Float32Array;
      targets.forEach((t0, i) => {
        const t = Math.fround(t0);
        const sine = Math.sqrt(Math.max((1 - t) * (1 + t), ARCFACE_SINE2_EPS));
        const slope = phiWhere(t) ? k.cosM + (k.sinM * t) / sine : 1;
        const want = r.data[i]! * s * slope;
        expect(Number.isFinite(got[i]!), `cos ${t}: ${got[i]}`).toBe(true);
        expect(Math.abs(got[i]! - want), `cos ${t}: ${got[i]} vs ${want}`).toBeLessThanOrEqual(
          1e-4 * Math.abs(want) + 1e-4,
        );
      });
    } finally {
      await s32.release();
    }
  }

  it('is finite at |cos| = 1 and switches at cos(pi - m) exactly where the forward compares', async () => {
    const th = Math.fround(arcfaceConstants(0.5).th);
    const targets = [
      1,
      -1,
      1.0000001,
      nextFloat32(1, false),
      0.999999,
      th,
      nextFloat32(th, true),
      nextFloat32(th, false),
      0.3,
    ];
    await edges({ margin: 0.5, easyMargin: false }, targets, (t) => t > th);
  });

  it('switches at 0 with easyMargin', async () => {
    await edges({ margin: 0.5, easyMargin: true }, [1, -1, 0, 1e-6, -1e-6, 0.5, -0.5], (t) => t > 0);
  });
});

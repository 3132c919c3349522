/**
 * The wasm Conv2DBackpropFilter (im2col + GEMM): im2col against a direct loop, and conv2d gradients
 * on wasm against the cpu backend and PyTorch for every conv conformance case (the strides,
 * paddings, dilations and groups the ResNets use).
 */
import { readFile } from 'node:fs/promises';
import { type ConformanceTensor, closeEnough, loadConformanceFile } from '@siamese/core/conformance';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { resolveDevice } from '../device.js';
import { compileGraph } from '../lower/compile.js';
import { ir } from '../lower/value.js';
import { caseGraph, fromConformance } from '../test-util.js';
import { im2colCols, im2colRows, im2colTransposed, type PatchGeometry } from './im2col.js';

interface GradCase {
  readonly name: string;
  readonly r: ConformanceTensor;
  readonly dx: ConformanceTensor;
  readonly dw: ConformanceTensor;
  readonly db?: ConformanceTensor;
}
const torch = JSON.parse(
  await readFile(new URL('./__fixtures__/conv-grads.json', import.meta.url), 'utf8'),
) as {
  cases: GradCase[];
};
const conv = await loadConformanceFile('conv');
const TOL = { atol: 1e-4, rtol: 1e-4 };

describe('im2colTransposed', () => {
  it('matches a direct loop, padding and dilation included', () => {
    const g: PatchGeometry = {
      batch: 2,
      inHeight: 7,
      inWidth: 6,
      inChannels: 3,
      outHeight: 4,
      outWidth: 3,
      filterHeight: 3,
      filterWidth: 2,
      strideHeight: 2,
      strideWidth: 2,
      dilationHeight: 1,
      dilationWidth: 2,
      padTop: 1,
      padLeft: 1,
    };
    const x = Float32Array.from({ length: 2 * 7 * 6 * 3 }, (_, i) => i + 1);
    const K = im2colRows(g);
    const M = im2colCols(g);
    const out = new Float32Array(K * M).fill(Number.NaN);
    im2colTransposed(x, g, out);
    for (let kh = 0; kh < 3; kh++)
      for (let kw = 0; kw < 2; kw++)
        for (let c = 0; c < 3; c++)
          for (let n = 0; n < 2; n++)
            for (let oh = 0; oh < 4; oh++)
              for (let ow = 0; ow < 3; ow++) {
                const ih = oh * 2 - 1 + kh;
                const iw = ow * 2 - 1 + kw * 2;
                const want = ih < 0 || ih >= 7 || iw < 0 || iw >= 6 ? 0 : x[((n * 7 + ih) * 6 + iw) * 3 + c];
                expect(out[((kh * 2 + kw) * 3 + c) * M + (n * 4 + oh) * 3 + ow]).toBe(want);
              }
  });
});

async function convGrads(device: 'js' | 'wasm'): Promise<Map<string, Float32Array[]>> {
  await resolveDevice(device);
  const out = new Map<string, Float32Array[]>();
  for (const c of conv.cases) {
    const t = torch.cases.find((g) => g.name === c.name)!;
    const { graph, feeds, params } = caseGraph(c);
    const run = compileGraph(graph, { mode: 'train' });
    const x = feeds.x!;
    const w = params.get('weight')!.t;
    const b = params.get('bias')?.t;
    const r = fromConformance(t.r);
    const f = (...args: tf.Tensor[]): tf.Scalar => {
      const p = new Map([['weight', ir(args[1]!)]]);
      if (args[2]) p.set('bias', ir(args[2]));
      return tf.sum(tf.mul(run.run({ x: args[0]! }, p).outputs.y!, r));
    };
    const grads = tf.grads(f)(b ? [x, w, b] : [x, w]);
    out.set(c.name, await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)));
    tf.dispose([...grads, x, w, r, ...(b ? [b] : [])]);
  }
  return out;
}

describe('conv2d gradients', async () => {
  const cpu = await convGrads('js');
  const wasm = await convGrads('wasm');

  it('registers the wasm filter-gradient kernel', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it.each(torch.cases.map((c) => [c.name, c] as const))('%s: wasm = cpu = PyTorch', (name, t) => {
    const wants = [t.dx, t.dw, ...(t.db ? [t.db] : [])];
    ['dx', 'dw', 'db'].slice(0, wants.length).forEach((what, i) => {
      for (const [dev, got] of [
        ['wasm', wasm.get(name)![i]!],
        ['cpu', cpu.get(name)![i]!],
      ] as const) {
        const cmp = closeEnough(got, wants[i]!, TOL);
        expect(cmp.ok, `${dev} ${what}: ${cmp.message}`).toBe(true);
      }
      const same = closeEnough(
        wasm.get(name)![i]!,
        { shape: wants[i]!.shape, data: [...cpu.get(name)![i]!] },
        TOL,
      );
      expect(same.ok, `wasm vs cpu ${what}: ${same.message}`).toBe(true);
    });
  });
});

describe('col2imAdd', () => {
  it('is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>', async () => {
    const { col2imAdd } = await import('./col2im.js');
    const g: PatchGeometry = {
      batch: 2,
      inHeight: 6,
      inWidth: 7,
      inChannels: 2,
      outHeight: 3,
      outWidth: 4,
      filterHeight: 3,
      filterWidth: 3,
      strideHeight: 2,
      strideWidth: 2,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 1,
      padLeft: 1,
    };
    const K = im2colRows(g);
    const M = im2colCols(g);
    const x = Float32Array.from({ length: 2 * 6 * 7 * 2 }, (_, i) => Math.sin(i));
    const c = Float32Array.from({ length: K * M }, (_, i) => Math.cos(i * 0.7));
    const colsT = new Float32Array(K * M);
    im2colTransposed(x, g, colsT);
    const dx = new Float32Array(x.length);
    col2imAdd(c, g, dx);
    let lhs = 0;
    for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) lhs += colsT[k * M + m]! * c[m * K + k]!;
    const rhs = x.reduce((s, v, i) => s + v * dx[i]!, 0);
    expect(lhs).toBeCloseTo(rhs, 3);
  });
});

/**
 * conv2dFilterGrad and conv2dInputGrad in every formulation the lowering picks between (NCHW taps for
 * large stride-1 maps, NHWC taps, convolution over the batch for big kernels and groups; flipped Conv
 * and ConvTranspose), at sizes the small conformance cases do not reach, against direct loops.
 */
import { GraphBuilder, Random } from '@siamese/core';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from './model.js';

interface Conv {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  k: number;
  stride: number;
  padding: number;
  dilation: number;
  groups: number;
}

const out = (size: number, cv: Conv) =>
  Math.floor((size + 2 * cv.padding - cv.dilation * (cv.k - 1) - 1) / cv.stride) + 1;

function random(n: number, seed: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

/** Visits every (n, o, y, x, c-in-group, i, j) multiply of the convolution with input and weight offsets. */
function eachTap(cv: Conv, visit: (xi: number, wi: number, yi: number) => void): void {
  const [ho, wo] = [out(cv.h, cv), out(cv.w, cv)];
  const cg = cv.c / cv.groups;
  const og = cv.o / cv.groups;
  for (let n = 0; n < cv.n; n++)
    for (let o = 0; o < cv.o; o++) {
      const g = Math.floor(o / og);
      for (let y = 0; y < ho; y++)
        for (let x = 0; x < wo; x++)
          for (let ci = 0; ci < cg; ci++)
            for (let i = 0; i < cv.k; i++)
              for (let j = 0; j < cv.k; j++) {
                const yy = y * cv.stride - cv.padding + i * cv.dilation;
                const xx = x * cv.stride - cv.padding + j * cv.dilation;
                if (yy < 0 || yy >= cv.h || xx < 0 || xx >= cv.w) continue;
                const c = g * cg + ci;
                visit(
                  ((n * cv.c + c) * cv.h + yy) * cv.w + xx,
                  ((o * cg + ci) * cv.k + i) * cv.k + j,
                  ((n * cv.o + o) * ho + y) * wo + x,
                );
              }
    }
}

async function runOne(
  op: 'conv2dFilterGrad' | 'conv2dInputGrad',
  cv: Conv,
  a: Float32Array,
  b: Float32Array,
): Promise<Float32Array> {
  const [ho, wo] = [out(cv.h, cv), out(cv.w, cv)];
  const g = new GraphBuilder(op);
  const attrs = { stride: cv.stride, padding: cv.padding, dilation: cv.dilation, groups: cv.groups };
  const dyShape = [cv.n, cv.o, ho, wo];
  const wShape = [cv.o, cv.c / cv.groups, cv.k, cv.k];
  const xShape = [cv.n, cv.c, cv.h, cv.w];
  const [sa, sb] = op === 'conv2dFilterGrad' ? [xShape, dyShape] : [dyShape, wShape];
  const ia = g.input('a', 'float32', sa);
  const ib = g.input('b', 'float32', sb);
  const size = op === 'conv2dFilterGrad' ? [cv.k, cv.k] : [cv.h, cv.w];
  g.output('y', g.op(op, [ia, ib], { ...attrs, size }));
  const session = await InferenceSession.create(exportOnnx(g.build(), new Map()), { intraOpNumThreads: 1 });
  try {
    const r = await session.run({ a: new OrtTensor('float32', a, sa), b: new OrtTensor('float32', b, sb) });
    return r.y!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const CASES: [string, Conv][] = [
  [
    '3x3 stride 1, 24x24 map (NCHW taps)',
    { n: 2, c: 3, h: 24, w: 24, o: 4, k: 3, stride: 1, padding: 1, dilation: 1, groups: 1 },
  ],
  [
    '3x3 stride 1 dilation 2, 24x26 map (NCHW taps)',
    { n: 2, c: 2, h: 24, w: 26, o: 3, k: 3, stride: 1, padding: 2, dilation: 2, groups: 1 },
  ],
  [
    '3x3 stride 1, 9x9 map (NHWC taps)',
    { n: 2, c: 4, h: 9, w: 9, o: 3, k: 3, stride: 1, padding: 1, dilation: 1, groups: 1 },
  ],
  [
    '3x3 stride 2, odd map (NHWC taps)',
    { n: 2, c: 3, h: 13, w: 11, o: 4, k: 3, stride: 2, padding: 1, dilation: 1, groups: 1 },
  ],
  [
    '1x1 stride 2 (NHWC, one tap)',
    { n: 3, c: 5, h: 9, w: 9, o: 4, k: 1, stride: 2, padding: 0, dilation: 1, groups: 1 },
  ],
  [
    '7x7 stride 2 stem (convolution over the batch)',
    { n: 2, c: 1, h: 21, w: 21, o: 4, k: 7, stride: 2, padding: 3, dilation: 1, groups: 1 },
  ],
  [
    '3x3 groups 2 (convolution over the batch)',
    { n: 2, c: 4, h: 8, w: 8, o: 6, k: 3, stride: 1, padding: 1, dilation: 1, groups: 2 },
  ],
];

describe('convolution gradients in onnxruntime against direct loops', () => {
  it.each(CASES)('%s', async (_name, cv) => {
    const [ho, wo] = [out(cv.h, cv), out(cv.w, cv)];
    const x = random(cv.n * cv.c * cv.h * cv.w, 1);
    const w = random((cv.o * cv.c * cv.k * cv.k) / cv.groups, 2);
    const dy = random(cv.n * cv.o * ho * wo, 3);
    const dw = new Float64Array(w.length);
    const dx = new Float64Array(x.length);
    eachTap(cv, (xi, wi, yi) => {
      dw[wi]! += x[xi]! * dy[yi]!;
      dx[xi]! += w[wi]! * dy[yi]!;
    });
    const close = (got: Float32Array, want: Float64Array, what: string) => {
      expect(got.length).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++)
        worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
      expect(worst, what).toBeLessThan(1e-4);
    };
    close(await runOne('conv2dFilterGrad', cv, x, dy), dw, 'dweight');
    close(await runOne('conv2dInputGrad', cv, dy, w), dx, 'dx');
  });
});

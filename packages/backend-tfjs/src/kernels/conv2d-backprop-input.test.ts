/**
 * The wasm Conv2DBackpropInput against the cpu backend on ResNet's convolution shapes: the stride-1
 * path (a forward Conv2D with the flipped filter) and the strided GEMM + col2im path.
 */
import { closeEnough } from '@siamese/core/conformance';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { resolveDevice } from '../device.js';
import { flipFilter } from './flip-filter.js';

interface Shape {
  readonly name: string;
  /** Input [N, H, W, C]. */
  readonly x: [number, number, number, number];
  /** Filter [KH, KW, C, O]. */
  readonly w: [number, number, number, number];
  readonly stride: number;
  readonly pad: [[number, number], [number, number]];
}

const RESNET: readonly Shape[] = [
  {
    name: 'layer1 3x3/1',
    x: [2, 27, 27, 64],
    w: [3, 3, 64, 64],
    stride: 1,
    pad: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: 'layer2 3x3/1',
    x: [2, 14, 14, 128],
    w: [3, 3, 128, 128],
    stride: 1,
    pad: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: 'layer3 3x3/1',
    x: [2, 7, 7, 256],
    w: [3, 3, 256, 256],
    stride: 1,
    pad: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: 'layer4 3x3/1',
    x: [2, 4, 4, 512],
    w: [3, 3, 512, 512],
    stride: 1,
    pad: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: 'layer2.0 3x3/2',
    x: [2, 27, 27, 64],
    w: [3, 3, 64, 128],
    stride: 2,
    pad: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: 'downsample 1x1/2',
    x: [2, 27, 27, 64],
    w: [1, 1, 64, 128],
    stride: 2,
    pad: [
      [0, 0],
      [0, 0],
    ],
  },
  {
    name: 'conv1 7x7/2',
    x: [2, 33, 33, 3],
    w: [7, 7, 3, 16],
    stride: 2,
    pad: [
      [3, 3],
      [3, 3],
    ],
  },
  {
    name: '7x7/1 pad 3',
    x: [2, 11, 9, 3],
    w: [7, 7, 3, 5],
    stride: 1,
    pad: [
      [3, 3],
      [3, 3],
    ],
  },
  {
    name: '1x1/1',
    x: [2, 5, 5, 8],
    w: [1, 1, 8, 6],
    stride: 1,
    pad: [
      [0, 0],
      [0, 0],
    ],
  },
  {
    name: '2x3/1 asymmetric',
    x: [2, 6, 7, 4],
    w: [2, 3, 4, 5],
    stride: 1,
    pad: [
      [0, 1],
      [2, 0],
    ],
  },
  {
    name: '3x3/1 no padding',
    x: [1, 6, 6, 4],
    w: [3, 3, 4, 3],
    stride: 1,
    pad: [
      [0, 0],
      [0, 0],
    ],
  },
];

const random = (n: number, seed: number, scale = 1): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale);

async function inputGrad(device: 'js' | 'wasm', s: Shape): Promise<Float32Array> {
  await resolveDevice(device);
  const [n, h, w] = s.x;
  const [kh, kw, , o] = s.w;
  const oh = Math.floor((h + s.pad[0][0] + s.pad[0][1] - kh) / s.stride) + 1;
  const ow = Math.floor((w + s.pad[1][0] + s.pad[1][1] - kw) / s.stride) + 1;
  const dy = tf.tensor4d(random(n * oh * ow * o, 1), [n, oh, ow, o]);
  // Scaled as torchvision initializes it (Kaiming normal, fan-out), so outputs stay near 1.
  const filter = tf.tensor4d(
    random(
      s.w.reduce((a, b) => a * b),
      2,
      Math.sqrt(2 / (kh * kw * o)),
    ),
    s.w,
  );
  const dx = tf.conv2dTranspose(dy, filter, s.x, s.stride, [[0, 0], s.pad[0], s.pad[1], [0, 0]]);
  const data = (await dx.data()) as Float32Array;
  tf.dispose([dy, filter, dx]);
  return data;
}

describe('wasm Conv2DBackpropInput', () => {
  it.each(RESNET.map((s) => [s.name, s] as const))('%s: wasm = cpu', async (_, s) => {
    const cpu = await inputGrad('js', s);
    const wasm = await inputGrad('wasm', s);
    expect(wasm.length).toBe(s.x.reduce((a, b) => a * b));
    const cmp = closeEnough(wasm, { shape: s.x, data: [...cpu] }, { atol: 1e-4, rtol: 1e-4 });
    expect(cmp.ok, cmp.message).toBe(true);
  });
});

describe('flipFilter', () => {
  it('reverses the taps and swaps input and output channels', () => {
    const [KH, KW, I, O] = [3, 2, 4, 5];
    const w = Float32Array.from({ length: KH * KW * I * O }, (_, i) => i);
    const out = new Float32Array(w.length).fill(Number.NaN);
    flipFilter(w, KH, KW, I, O, out);
    for (let kh = 0; kh < KH; kh++)
      for (let kw = 0; kw < KW; kw++)
        for (let i = 0; i < I; i++)
          for (let o = 0; o < O; o++) {
            const want = w[(((KH - 1 - kh) * KW + (KW - 1 - kw)) * I + i) * O + o];
            expect(out[((kh * KW + kw) * O + o) * I + i]).toBe(want);
          }
  });
});

/**
 * The convolution gradients, each in the formulation measured fastest in onnxruntime's stock CPU build
 * (bench/conv-grad-formulations). conv2dInputGrad: at stride 1 a Conv with the flipped,
 * channel-swapped weight; otherwise ConvTranspose (the forward's weight layout, output_padding
 * restoring rows the forward's stride dropped). conv2dFilterGrad: see its dispatcher.
 */
import type { Conv2dGradAttrs } from '@siamese/core';
import { attr } from './context.js';
import { reduceSumOf } from './reduce.js';
import type { Lowering } from './types.js';

type Args = Parameters<Lowering<Conv2dGradAttrs>>[0];

const pads = (p: readonly [number, number]): number[] => [p[0], p[1], p[0], p[1]];

export const conv2dInputGrad: Lowering<Conv2dGradAttrs> = (args) => {
  const a = args.attrs;
  if (a.stride[0] === 1 && a.stride[1] === 1) flippedConv(args);
  else convTranspose(args);
};

/**
 * Stride 1: dx is dy convolved with the weight flipped in space and transposed in and out channels
 * (per group), padded by dilation * (k - 1) - padding. onnxruntime runs this as an ordinary Conv on
 * its fast NCHWc kernels, where ConvTranspose goes through a slower column-to-image path.
 */
function flippedConv(args: Args): void {
  const { ctx, inputs, inputTypes, outputs, attrs: a } = args;
  const [o, cg, kh, kw] = inputTypes[1]!.shape as number[];
  const g = a.groups;
  const w = inputs[1]!;
  // Both branches of a Siamese pair read the same weight: transform it once per step.
  const flipped = ctx.once(`flipped:${w}:${g}`, () => {
    const swapped =
      g === 1
        ? ctx.op('Transpose', [w], [attr.ints('perm', [1, 0, 2, 3])])
        : ctx.op('Reshape', [
            ctx.op(
              'Transpose',
              [ctx.op('Reshape', [w, ctx.int64s([g, o! / g, cg!, kh!, kw!])])],
              [attr.ints('perm', [0, 2, 1, 3, 4])],
            ),
            ctx.int64s([g * cg!, o! / g, kh!, kw!]),
          ]);
    // Reversing the flattened kH*kW axis flips both spatial axes at once: a MatMul with a
    // permutation matrix, far faster in onnxruntime than Slice with negative steps or Gather.
    const taps = kh! * kw!;
    const reverse = new Float32Array(taps * taps);
    for (let t = 0; t < taps; t++) reverse[t * taps + (taps - 1 - t)] = 1;
    const perm = ctx.constant(`reverse${taps}`, { dtype: 'float32', shape: [taps, taps], data: reverse });
    const [ci, co] = [g * cg!, o! / g];
    const flat = ctx.op('Reshape', [swapped, ctx.int64s([ci * co, taps])]);
    return ctx.op('Reshape', [ctx.op('MatMul', [flat, perm]), ctx.int64s([ci, co, kh!, kw!])]);
  });
  const pad = [0, 1].map((i) => a.dilation[i]! * ((i === 0 ? kh! : kw!) - 1) - a.padding[i]!);
  // A padding larger than the reach would need negative pads: crop dy's result instead (not in ResNets).
  if (pad.some((p) => p < 0)) {
    convTranspose(args);
    return;
  }
  ctx.op(
    'Conv',
    [inputs[0]!, flipped],
    [
      attr.ints('kernel_shape', [kh!, kw!]),
      attr.ints('pads', [pad[0]!, pad[1]!, pad[0]!, pad[1]!]),
      attr.ints('dilations', a.dilation),
      attr.int('group', g),
    ],
    outputs[0],
  );
}

function convTranspose({ ctx, inputs, inputTypes, outputs, attrs: a }: Args): void {
  const [, , ho, wo] = inputTypes[0]!.shape as number[];
  const [, , kh, kw] = inputTypes[1]!.shape as number[];
  const reach = (out: number, k: number, i: 0 | 1): number =>
    a.stride[i] * (out - 1) + a.dilation[i] * (k - 1) + 1 - 2 * a.padding[i];
  const extra = [a.size[0] - reach(ho!, kh!, 0), a.size[1] - reach(wo!, kw!, 1)];
  ctx.op(
    'ConvTranspose',
    [inputs[0]!, inputs[1]!],
    [
      attr.ints('kernel_shape', [kh!, kw!]),
      attr.ints('strides', a.stride),
      attr.ints('pads', pads(a.padding)),
      attr.ints('dilations', a.dilation),
      attr.int('group', a.groups),
      attr.ints('output_padding', extra),
    ],
    outputs[0],
  );
}

/**
 * Picks the fastest formulation measured in onnxruntime's CPU build (bench/conv-grad-formulations):
 * kernels up to 3x3 without groups as one GEMM per kernel tap over shifted views of x (NCHW batched
 * MatMuls for large stride-1 maps, NHWC Gemms otherwise); larger kernels (the 7x7 stem) and grouped
 * convolutions as a convolution over the batch.
 */
export const conv2dFilterGrad: Lowering<Conv2dGradAttrs> = (args) => {
  const a = args.attrs;
  const [, , ho, wo] = args.inputTypes[1]!.shape as number[];
  if (a.groups > 1 || a.size[0] > 3 || a.size[1] > 3) batchAsChannels(args);
  else if (a.stride[0] === 1 && a.stride[1] === 1 && ho! * wo! >= 400) tapsNchw(args);
  else tapsNhwc(args);
};

/** Where tap (i, j) of the kernel reads the padded input: start, end and step per spatial axis. */
function tapWindow(a: Conv2dGradAttrs, i: number, j: number, ho: number, wo: number) {
  const [si, sj] = [i * a.dilation[0], j * a.dilation[1]];
  return {
    starts: [si, sj],
    ends: [si + a.stride[0] * (ho - 1) + 1, sj + a.stride[1] * (wo - 1) + 1],
    steps: [a.stride[0], a.stride[1]],
  };
}

/** Stride-1, large maps: per tap a batched MatMul dy[N,O,HW] x xs[N,C,HW]^T (onnxruntime fuses the transpose), summed over N. */
function tapsNchw({ ctx, inputs, inputTypes, outputs, attrs: a }: Args): void {
  const [, c] = inputTypes[0]!.shape as number[];
  const [, o, ho, wo] = inputTypes[1]!.shape as number[];
  const [kh, kw] = a.size;
  const [ph, pw] = a.padding;
  const xp = ph || pw ? ctx.op('Pad', [inputs[0]!, ctx.int64s([0, 0, ph, pw, 0, 0, ph, pw])]) : inputs[0]!;
  const dyr = ctx.op('Reshape', [inputs[1]!, ctx.int64s([0, o!, ho! * wo!])]);
  const taps: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const w = tapWindow(a, i, j, ho!, wo!);
      const view = ctx.op('Slice', [xp, ctx.int64s(w.starts), ctx.int64s(w.ends), ctx.int64s([2, 3])]);
      const xs = ctx.op(
        'Transpose',
        [ctx.op('Reshape', [view, ctx.int64s([0, c!, ho! * wo!])])],
        [attr.ints('perm', [0, 2, 1])],
      );
      taps.push(ctx.op('Unsqueeze', [ctx.op('MatMul', [dyr, xs]), ctx.int64s([3])]));
    }
  }
  // No Transpose node here: onnxruntime's transpose optimizer pushes one into the optimizer update
  // and back, at several times the cost of this strided Concat.
  const perSample = taps.length === 1 ? taps[0]! : ctx.op('Concat', taps, [attr.int('axis', 3)]);
  const summed = reduceSumOf(ctx, perSample, [0], false);
  ctx.op('Reshape', [summed, ctx.int64s([o!, c!, kh, kw])], [], outputs[0]);
}

/** Per tap one Gemm over the whole batch in NHWC: dy[N*Ho*Wo, O]^T x xs[N*Ho*Wo, C]. */
function tapsNhwc({ ctx, inputs, inputTypes, outputs, attrs: a }: Args): void {
  const [, c] = inputTypes[0]!.shape as number[];
  const [, o, ho, wo] = inputTypes[1]!.shape as number[];
  const [kh, kw] = a.size;
  const [ph, pw] = a.padding;
  const nhwc = attr.ints('perm', [0, 2, 3, 1]);
  const xt = ctx.op('Transpose', [inputs[0]!], [nhwc]);
  const xp = ph || pw ? ctx.op('Pad', [xt, ctx.int64s([0, ph, pw, 0, 0, ph, pw, 0])]) : xt;
  const dyn = ctx.op('Reshape', [ctx.op('Transpose', [inputs[1]!], [nhwc]), ctx.int64s([-1, o!])]);
  const taps: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const w = tapWindow(a, i, j, ho!, wo!);
      const view = ctx.op('Slice', [
        xp,
        ctx.int64s(w.starts),
        ctx.int64s(w.ends),
        ctx.int64s([1, 2]),
        ctx.int64s(w.steps),
      ]);
      const cols = ctx.op('Reshape', [view, ctx.int64s([-1, c!])]);
      const tap = ctx.op('Gemm', [dyn, cols], [attr.int('transA', 1)]);
      taps.push(kh * kw === 1 ? tap : ctx.op('Unsqueeze', [tap, ctx.int64s([2])]));
    }
  }
  // A strided Concat, not a Transpose (see tapsNchw).
  const joined = taps.length === 1 ? taps[0]! : ctx.op('Concat', taps, [attr.int('axis', 2)]);
  ctx.op('Reshape', [joined, ctx.int64s([o!, c!, kh, kw])], [], outputs[0]);
}

/**
 * A Conv that correlates x with dy over the batch: x as [C, N, H, W] (channels become the batch),
 * dy as the [O, N, Ho, Wo] kernel, stride and dilation swapped; the [C, O, kH', kW'] result is cut to
 * the kernel (kH' exceeds kH where the forward dropped rows) and transposed to [O, C, kH, kW].
 */
function batchAsChannels({ ctx, inputs, inputTypes, outputs, attrs: a }: Args): void {
  const [, c, h, w] = inputTypes[0]!.shape as number[];
  const [, o, ho, wo] = inputTypes[1]!.shape as number[];
  const [kh, kw] = a.size;
  const perm = attr.ints('perm', [1, 0, 2, 3]);
  const g = a.groups;
  const parts: string[] = [];
  for (let k = 0; k < g; k++) {
    const cut = (v: string, size: number): string =>
      g === 1
        ? v
        : ctx.op('Slice', [v, ctx.int64s([k * size]), ctx.int64s([(k + 1) * size]), ctx.int64s([1])]);
    const xs = ctx.op('Transpose', [cut(inputs[0]!, c! / g)], [perm]);
    const dys = ctx.op('Transpose', [cut(inputs[1]!, o! / g)], [perm]);
    let corr = ctx.op(
      'Conv',
      [xs, dys],
      [
        attr.ints('kernel_shape', [ho!, wo!]),
        attr.ints('strides', a.dilation),
        attr.ints('pads', pads(a.padding)),
        attr.ints('dilations', a.stride),
      ],
    );
    const fullH = Math.floor((h! + 2 * a.padding[0] - a.stride[0] * (ho! - 1) - 1) / a.dilation[0]) + 1;
    const fullW = Math.floor((w! + 2 * a.padding[1] - a.stride[1] * (wo! - 1) - 1) / a.dilation[1]) + 1;
    if (fullH !== kh || fullW !== kw) {
      corr = ctx.op('Slice', [corr, ctx.int64s([0, 0]), ctx.int64s([kh, kw]), ctx.int64s([2, 3])]);
    }
    parts.push(ctx.op('Transpose', [corr], [perm], g === 1 ? outputs[0] : undefined));
  }
  if (g > 1) ctx.op('Concat', parts, [attr.int('axis', 0)], outputs[0]);
}

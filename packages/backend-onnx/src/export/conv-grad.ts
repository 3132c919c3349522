/**
 * The convolution gradients. conv2dInputGrad → ConvTranspose (the same weight layout as the forward
 * Conv, output_padding restoring rows the forward's stride dropped). conv2dFilterGrad → a Conv that
 * correlates x with dy over the batch: x as [C, N, H, W] (channels become the batch), dy as the
 * [O, N, Ho, Wo] kernel, stride and dilation swapped; its [C, O, kH', kW'] result is cut to the
 * kernel (kH' exceeds kH where the forward dropped rows) and transposed to [O, C, kH, kW].
 */
import type { Conv2dGradAttrs } from '@siamese/core';
import { attr } from './context.js';
import type { Lowering } from './types.js';

const pads = (p: readonly [number, number]): number[] => [p[0], p[1], p[0], p[1]];

export const conv2dInputGrad: Lowering<Conv2dGradAttrs> = ({
  ctx,
  inputs,
  inputTypes,
  outputs,
  attrs: a,
}) => {
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
};

export const conv2dFilterGrad: Lowering<Conv2dGradAttrs> = ({
  ctx,
  inputs,
  inputTypes,
  outputs,
  attrs: a,
}) => {
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
};

/** Pooling over NCHW input: maxPool2d (PyTorch's MaxPool2d) and globalAvgPool (AdaptiveAvgPool2d(1)). */
import { ShapeError } from '../ir/errors.js';
import { boundSize, formatType } from '../ir/shape.js';
import { bool, checkKnown, none, pair } from './attrs.js';
import { float, staticDim } from './check.js';
import { windowOut } from './conv.js';
import type { OpSpec } from './spec.js';

export interface MaxPool2dAttrs {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly ceilMode: boolean;
}

export const maxPool2d: OpSpec<MaxPool2dAttrs> = {
  doc: 'Max over kH x kW windows of NCHW x; padding is -inf; stride defaults to the kernel size.',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['kernel', 'stride', 'padding', 'dilation', 'ceilMode']);
    const kernel = pair(raw, 'kernel', [2, 2], 1);
    const a = {
      kernel,
      stride: pair(raw, 'stride', kernel, 1),
      padding: pair(raw, 'padding', [0, 0], 0),
      dilation: pair(raw, 'dilation', [1, 1], 1),
      ceilMode: bool(raw, 'ceilMode', false),
    };
    if (a.padding[0] * 2 > a.kernel[0] || a.padding[1] * 2 > a.kernel[1]) {
      throw new ShapeError(
        `attribute 'padding' ${JSON.stringify(a.padding)} must be at most half the kernel`,
      );
    }
    return a;
  },
  shape: ([xt], a) => {
    const x = float(xt, 'x', 4);
    const [n, c, h, w] = x.shape;
    const ho = windowOut(
      staticDim(h, 'input height'),
      a.kernel[0],
      a.stride[0],
      a.padding[0],
      a.dilation[0],
      a.ceilMode,
    );
    const wo = windowOut(
      staticDim(w, 'input width'),
      a.kernel[1],
      a.stride[1],
      a.padding[1],
      a.dilation[1],
      a.ceilMode,
    );
    if (ho < 1 || wo < 1) throw new ShapeError(`input ${formatType(x)} is too small for the pooling window`);
    return [{ dtype: 'float32', shape: [n!, c!, ho, wo] }];
  },
  flops: (_i, [y], a, bind) => boundSize(y!.shape, bind) * a.kernel[0] * a.kernel[1],
};

export const globalAvgPool: OpSpec<Record<string, never>> = {
  doc: 'Mean over the spatial dimensions of NCHW x, keeping them as 1x1: [N, C, H, W] -> [N, C, 1, 1].',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: none,
  shape: ([xt]) => {
    const x = float(xt, 'x', 4);
    return [{ dtype: 'float32', shape: [x.shape[0]!, x.shape[1]!, 1, 1] }];
  },
  flops: ([x], _o, _a, bind) => boundSize(x!.shape, bind),
};

export const maxPool2dGrad: OpSpec<MaxPool2dAttrs> = {
  doc:
    'dx = the gradient of sum(maxPool2d(x) * dy) with respect to x: each dy element goes to the first ' +
    'maximum of its window (row-major scan), contributions to one element add up; attrs are the forward ones.',
  inputs: [{ name: 'x' }, { name: 'dy' }],
  outputs: ['dx'],
  attrs: maxPool2d.attrs,
  shape: ([xt, dyt], a) => {
    const [y] = maxPool2d.shape([xt], a);
    const dy = float(dyt, 'dy', 4);
    if (dy.shape.some((d, i) => d !== y!.shape[i]))
      throw new ShapeError(`dy ${formatType(dy)} must have the forward output shape ${formatType(y!)}`);
    return [{ dtype: 'float32', shape: xt!.shape }];
  },
  flops: ([, dy], _o, a, bind) => boundSize(dy!.shape, bind) * a.kernel[0] * a.kernel[1],
};

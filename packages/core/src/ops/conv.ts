/** conv2d: 2-D convolution over NCHW input with OIHW weights (PyTorch's Conv2d). */
import { ShapeError } from '../ir/errors.js';
import { boundSize, formatType } from '../ir/shape.js';
import { checkKnown, int, pair } from './attrs.js';
import { float, staticDim } from './check.js';
import type { OpSpec } from './spec.js';

export interface Conv2dAttrs {
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

/** Output size of a sliding window along one axis (floor mode). */
export function windowOut(size: number, k: number, s: number, p: number, d: number, ceil = false): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch: with ceil mode, the last window must start inside the (left-padded) input.
  if (ceil && (out - 1) * s >= size + p) out -= 1;
  return out;
}

export const conv2d: OpSpec<Conv2dAttrs> = {
  doc: 'y = conv(x, weight) + bias over NCHW input, OIHW weight [O, C/groups, kH, kW]; zero padding.',
  inputs: [{ name: 'x' }, { name: 'weight' }, { name: 'bias', optional: true }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['stride', 'padding', 'dilation', 'groups']);
    return {
      stride: pair(raw, 'stride', [1, 1], 1),
      padding: pair(raw, 'padding', [0, 0], 0),
      dilation: pair(raw, 'dilation', [1, 1], 1),
      groups: int(raw, 'groups', 1, 1),
    };
  },
  shape: ([xt, wt, bt], a) => {
    const x = float(xt, 'x', 4);
    const w = float(wt, 'weight', 4);
    const [n, c, h, wd] = x.shape;
    const [o, cg, kh, kw] = w.shape.map((d, i) => staticDim(d, `weight dimension ${i}`)) as number[];
    const cin = staticDim(c, 'input channels');
    if (cg! * a.groups !== cin) {
      throw new ShapeError(
        `input has ${cin} channels but weight ${formatType(w)} expects ${cg! * a.groups} (weight.shape[1] * groups = ${cg} * ${a.groups})`,
      );
    }
    if (o! % a.groups !== 0)
      throw new ShapeError(`output channels ${o} are not divisible by groups ${a.groups}`);
    if (bt) {
      const b = float(bt, 'bias', 1);
      if (b.shape[0] !== o) throw new ShapeError(`bias ${formatType(b)} must have ${o} elements`);
    }
    const ho = windowOut(staticDim(h, 'input height'), kh!, a.stride[0], a.padding[0], a.dilation[0]);
    const wo = windowOut(staticDim(wd, 'input width'), kw!, a.stride[1], a.padding[1], a.dilation[1]);
    if (ho < 1 || wo < 1) {
      throw new ShapeError(
        `input ${formatType(x)} is too small for a ${kh}x${kw} kernel (output ${ho}x${wo})`,
      );
    }
    return [{ dtype: 'float32', shape: [n!, o!, ho, wo] }];
  },
  flops: ([, w], [y], _a, bind) => {
    const [, cg, kh, kw] = w!.shape as number[];
    return boundSize(y!.shape, bind) * cg! * kh! * kw!;
  },
};

export interface Conv2dGradAttrs extends Conv2dAttrs {
  /** conv2dInputGrad: the forward input's [H, W]; conv2dFilterGrad: the kernel's [kH, kW]. */
  readonly size: readonly [number, number];
}

function gradAttrs(raw: Readonly<Record<string, unknown>>): Conv2dGradAttrs {
  checkKnown(raw, ['stride', 'padding', 'dilation', 'groups', 'size']);
  return {
    stride: pair(raw, 'stride', [1, 1], 1),
    padding: pair(raw, 'padding', [0, 0], 0),
    dilation: pair(raw, 'dilation', [1, 1], 1),
    groups: int(raw, 'groups', 1, 1),
    size: pair(raw, 'size', [1, 1], 1),
  };
}

/** The forward's output size must be what dy has: otherwise dy belongs to another convolution. */
function checkDy(
  dy: readonly (number | string)[],
  h: number,
  w: number,
  kh: number,
  kw: number,
  a: Conv2dAttrs,
): void {
  const ho = windowOut(h, kh, a.stride[0], a.padding[0], a.dilation[0]);
  const wo = windowOut(w, kw, a.stride[1], a.padding[1], a.dilation[1]);
  if (dy[2] !== ho || dy[3] !== wo) {
    throw new ShapeError(
      `dy [${dy.join(',')}] does not match the forward output ${ho}x${wo} of a ${h}x${w} input and ${kh}x${kw} kernel`,
    );
  }
}

export const conv2dInputGrad: OpSpec<Conv2dGradAttrs> = {
  doc:
    'dx = the gradient of sum(conv2d(x, weight) * dy) with respect to x (a transposed convolution of dy); ' +
    'attrs are the forward conv2d attrs plus size = the input [H, W].',
  inputs: [{ name: 'dy' }, { name: 'weight' }],
  outputs: ['dx'],
  attrs: gradAttrs,
  shape: ([dyt, wt], a) => {
    const dy = float(dyt, 'dy', 4);
    const w = float(wt, 'weight', 4);
    const [o, cg, kh, kw] = w.shape.map((d, i) => staticDim(d, `weight dimension ${i}`)) as number[];
    if (dy.shape[1] !== o) throw new ShapeError(`dy ${formatType(dy)} must have ${o} channels (weight rows)`);
    if (o! % a.groups !== 0)
      throw new ShapeError(`output channels ${o} are not divisible by groups ${a.groups}`);
    checkDy(dy.shape, a.size[0], a.size[1], kh!, kw!, a);
    return [{ dtype: 'float32', shape: [dy.shape[0]!, cg! * a.groups, a.size[0], a.size[1]] }];
  },
  flops: ([dy, w], _o, _a, bind) => {
    const [, cg, kh, kw] = w!.shape as number[];
    return boundSize(dy!.shape, bind) * cg! * kh! * kw!;
  },
};

export const conv2dFilterGrad: OpSpec<Conv2dGradAttrs> = {
  doc:
    'dweight = the gradient of sum(conv2d(x, weight) * dy) with respect to weight, summed over the batch; ' +
    'attrs are the forward conv2d attrs plus size = the kernel [kH, kW].',
  inputs: [{ name: 'x' }, { name: 'dy' }],
  outputs: ['dweight'],
  attrs: gradAttrs,
  shape: ([xt, dyt], a) => {
    const x = float(xt, 'x', 4);
    const dy = float(dyt, 'dy', 4);
    const c = staticDim(x.shape[1], 'input channels');
    const o = staticDim(dy.shape[1], 'dy channels');
    if (c % a.groups !== 0 || o % a.groups !== 0)
      throw new ShapeError(`channels ${c} -> ${o} are not divisible by groups ${a.groups}`);
    if (dy.shape[0] !== x.shape[0])
      throw new ShapeError(`x ${formatType(x)} and dy ${formatType(dy)} must have the same batch`);
    const [kh, kw] = a.size;
    checkDy(dy.shape, staticDim(x.shape[2], 'input height'), staticDim(x.shape[3], 'input width'), kh, kw, a);
    return [{ dtype: 'float32', shape: [o, c / a.groups, kh, kw] }];
  },
  flops: ([, dy], [dw], _a, bind) =>
    boundSize(dy!.shape, bind) * (boundSize(dw!.shape) / (dw!.shape[0] as number)),
};

/** Backward rules of the network ops: convolution, pooling, train-mode BatchNorm, linear, layout. */
import type { Conv2dAttrs } from '../ops/conv.js';
import type { ConcatAttrs, FlattenAttrs } from '../ops/layout.js';
import type { BatchNormAttrs } from '../ops/norm.js';
import type { MaxPool2dAttrs } from '../ops/pool.js';
import type { ReduceAttrs } from '../ops/reduce.js';
import { AutodiffError, onlyDy, type VjpRule } from './rule.js';

export const conv2d: VjpRule<Conv2dAttrs> = (args) => {
  const { b, attrs: a, needs } = args;
  const [x, w, bias] = args.inputs;
  const dy = onlyDy(args);
  const conv = { stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups };
  return [
    needs[0]
      ? b.op('conv2dInputGrad', [dy, w], { ...conv, size: [x!.shape[2], x!.shape[3]] }, 'dx')
      : undefined,
    needs[1]
      ? b.op('conv2dFilterGrad', [x, dy], { ...conv, size: [w!.shape[2], w!.shape[3]] }, 'dweight')
      : undefined,
    bias && needs[2] ? b.op('reduceSum', [dy], { axes: [0, 2, 3] }, 'dbias') : undefined,
  ];
};

export const batchNormTrain: VjpRule<BatchNormAttrs> = (args) => {
  const { b } = args;
  const [x, w] = args.inputs;
  const [, mean, invStd] = args.outputs;
  const dy = onlyDy(args);
  const [dx, dw, db] = b.opMulti('batchNormGrad', [dy, x, w, mean, invStd], {}, 'dx');
  return [dx, dw, db, undefined, undefined];
};

export const maxPool2d: VjpRule<MaxPool2dAttrs> = (args) => [
  args.b.op('maxPool2dGrad', [args.inputs[0], onlyDy(args)], args.attrs, 'dx'),
];

export const globalAvgPool: VjpRule<Record<string, never>> = (args) => {
  const x = args.inputs[0]!;
  const area = (x.shape[2] as number) * (x.shape[3] as number);
  const scaled = args.b.op('scale', [onlyDy(args)], { alpha: 1 / area }, 'scaled');
  return [args.b.op('broadcastTo', [scaled, x], {}, 'dx')];
};

export const flatten: VjpRule<FlattenAttrs> = (args) => [
  args.b.op('reshapeLike', [onlyDy(args), args.inputs[0]], {}, 'dx'),
];

export const linear: VjpRule<Record<string, never>> = (args) => {
  const { b, needs } = args;
  const [x, w, bias] = args.inputs;
  if (x!.shape.length !== 2) {
    throw new AutodiffError(
      `node '${args.node.name}' (linear): gradients need a rank-2 input, got rank ${x!.shape.length}`,
    );
  }
  const dy = onlyDy(args);
  return [
    needs[0] ? b.op('matmul', [dy, w], {}, 'dx') : undefined,
    needs[1] ? b.op('matmul', [dy, x], { transA: true }, 'dweight') : undefined,
    bias && needs[2] ? b.op('reduceSum', [dy], { axes: [0] }, 'dbias') : undefined,
  ];
};

export const concat: VjpRule<ConcatAttrs> = (args) => {
  const dy = onlyDy(args);
  const axis = args.attrs.axis < 0 ? args.attrs.axis + dy.shape.length : args.attrs.axis;
  let start = 0;
  return args.inputs.map((x, i) => {
    const end = start + (x!.shape[axis] as number);
    const part = args.needs[i] ? args.b.op('slice', [dy], { axis, start, end }, `dx${i}`) : undefined;
    start = end;
    return part;
  });
};

function reduceBackward(args: Parameters<VjpRule<ReduceAttrs>>[0]): ReturnType<VjpRule<ReduceAttrs>> {
  const x = args.inputs[0]!;
  const r = x.shape.length;
  const axes =
    args.attrs.axes.length === 0 ? x.shape.map((_, i) => i) : args.attrs.axes.map((a) => (a + r) % r);
  const insertAxes = args.attrs.keepDims ? [] : [...axes].sort((p, q) => p - q);
  let dy = onlyDy(args);
  if (args.node.op === 'reduceMean') {
    dy = args.b.op('div', [dy, args.b.op('numel', [x], { axes }, 'count')], {}, 'scaled');
  }
  return [args.b.op('broadcastTo', [dy, x], { insertAxes }, 'dx')];
}

export const reduceSum: VjpRule<ReduceAttrs> = reduceBackward;
export const reduceMean: VjpRule<ReduceAttrs> = reduceBackward;

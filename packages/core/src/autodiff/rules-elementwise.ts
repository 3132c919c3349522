/** Backward rules of the element-wise ops; broadcast inputs get their gradient summed back (sumTo). */
import type { ClampAttrs, NoAttrs, ScaleAttrs } from '../ops/elementwise.js';
import type { NumelAttrs } from '../ops/reduce.js';
import { onlyDy, unbroadcast, type VjpRule } from './rule.js';

export const relu: VjpRule<NoAttrs> = (args) => [
  args.b.op('reluGrad', [onlyDy(args), args.outputs[0]], {}, 'dx'),
];

export const add: VjpRule<NoAttrs> = (args) => {
  const dy = onlyDy(args);
  const [a, c] = args.inputs as [NonNullable<(typeof args.inputs)[0]>, NonNullable<(typeof args.inputs)[1]>];
  return [
    args.needs[0] ? unbroadcast(args.b, dy, a, 'da') : undefined,
    args.needs[1] ? unbroadcast(args.b, dy, c, 'db') : undefined,
  ];
};

export const sub: VjpRule<NoAttrs> = (args) => {
  const { b } = args;
  const dy = onlyDy(args);
  const [a, c] = args.inputs;
  return [
    args.needs[0] ? unbroadcast(b, dy, a!, 'da') : undefined,
    args.needs[1] ? unbroadcast(b, b.op('scale', [dy], { alpha: -1 }, 'neg'), c!, 'db') : undefined,
  ];
};

export const mul: VjpRule<NoAttrs> = (args) => {
  const { b } = args;
  const dy = onlyDy(args);
  const [a, c] = args.inputs;
  return [
    args.needs[0] ? unbroadcast(b, b.op('mul', [dy, c], {}, 'da.full'), a!, 'da') : undefined,
    args.needs[1] ? unbroadcast(b, b.op('mul', [dy, a], {}, 'db.full'), c!, 'db') : undefined,
  ];
};

export const div: VjpRule<NoAttrs> = (args) => {
  const { b } = args;
  const [a, c] = args.inputs;
  const q = b.op('div', [onlyDy(args), c], {}, 'dy_over_b');
  return [
    args.needs[0] ? unbroadcast(b, q, a!, 'da') : undefined,
    // d(a/b)/db = -(a/b)/b = -y/b.
    args.needs[1]
      ? unbroadcast(
          b,
          b.op('scale', [b.op('mul', [q, args.outputs[0]], {}, 'qy')], { alpha: -1 }, 'db.full'),
          c!,
          'db',
        )
      : undefined,
  ];
};

export const abs: VjpRule<NoAttrs> = (args) => [
  args.b.op('mul', [onlyDy(args), args.b.op('sign', [args.inputs[0]], {}, 'sign')], {}, 'dx'),
];

export const sigmoid: VjpRule<NoAttrs> = (args) => {
  const { b } = args;
  const y = args.outputs[0]!;
  const slope = b.op('mul', [y, b.op('scale', [y], { alpha: -1, beta: 1 }, 'one_minus_y')], {}, 'slope');
  return [b.op('mul', [onlyDy(args), slope], {}, 'dx')];
};

export const sqrt: VjpRule<NoAttrs> = (args) => [
  args.b.op('div', [args.b.op('scale', [onlyDy(args)], { alpha: 0.5 }, 'half'), args.outputs[0]], {}, 'dx'),
];

export const exp: VjpRule<NoAttrs> = (args) => [args.b.op('mul', [onlyDy(args), args.outputs[0]], {}, 'dx')];

export const scale: VjpRule<ScaleAttrs> = (args) => [
  args.b.op('scale', [onlyDy(args)], { alpha: args.attrs.alpha }, 'dx'),
];

/** Passes the gradient where min < x < max (PyTorch also passes it at the bounds themselves). */
export const clamp: VjpRule<ClampAttrs> = (args) => {
  const { b, attrs: a } = args;
  const x = args.inputs[0]!;
  let g = onlyDy(args);
  if (a.min !== null) g = b.op('reluGrad', [g, b.op('scale', [x], { beta: -a.min }, 'above')], {}, 'dx.min');
  if (a.max !== null)
    g = b.op('reluGrad', [g, b.op('scale', [x], { alpha: -1, beta: a.max }, 'below')], {}, 'dx');
  return [g];
};

/** Piecewise constant: no gradient. */
export const constant: VjpRule<NoAttrs | NumelAttrs> = (args) => args.inputs.map(() => undefined);

export const reluGrad: VjpRule<NoAttrs> = (args) => [
  args.needs[0]
    ? unbroadcast(
        args.b,
        args.b.op('reluGrad', [onlyDy(args), args.inputs[1]], {}, 'da.full'),
        args.inputs[0]!,
        'da',
      )
    : undefined,
  undefined,
];

export const reshapeLike: VjpRule<NoAttrs> = (args) => [
  args.b.op('reshapeLike', [onlyDy(args), args.inputs[0]], {}, 'dx'),
  undefined,
];

export const sumTo: VjpRule<NoAttrs> = (args) => {
  const [x, like] = args.inputs;
  const lead = x!.shape.length - like!.shape.length;
  const insertAxes = Array.from({ length: lead }, (_, i) => i);
  return [args.b.op('broadcastTo', [onlyDy(args), x], { insertAxes }, 'dx'), undefined];
};

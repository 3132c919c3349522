/**
 * Backward rules of the embedding geometry and the losses, written out by hand in IR ops (each is a
 * few element-wise ops on [N, D] rows, so fusing them buys nothing).
 */
import type { Value } from '../ir/types.js';
import type { DistanceAttrs, L2NormalizeAttrs } from '../ops/distance.js';
import type { MarginAttrs, TripletAttrs } from '../ops/loss.js';
import { onlyDy, type VjpArgs, type VjpRule } from './rule.js';

type B = VjpArgs<unknown>['b'];

/** max(||x||, eps) along `axis`, kept as a size-1 dimension. */
function clampedNorm(b: B, x: Value, axis: number, eps: number, name: string): Value {
  const sq = b.op(
    'reduceSum',
    [b.op('mul', [x, x], {}, `${name}.sq`)],
    { axes: [axis], keepDims: true },
    `${name}.sum`,
  );
  return b.op('clamp', [b.op('sqrt', [sq], {}, `${name}.norm`)], { min: eps }, name);
}

/** dx = (dy - y * sum(dy * y)) / max(||x||, eps) (exact where ||x|| > eps). */
export const l2Normalize: VjpRule<L2NormalizeAttrs> = (args) => {
  const { b, attrs: a } = args;
  const x = args.inputs[0]!;
  const y = args.outputs[0]!;
  const dy = onlyDy(args);
  const m = clampedNorm(b, x, a.axis, a.eps, 'norm');
  const t = b.op('reduceSum', [b.op('mul', [dy, y], {}, 'dy_y')], { axes: [a.axis], keepDims: true }, 'dot');
  return [b.op('div', [b.op('sub', [dy, b.op('mul', [y, t], {}, 'proj')], {}, 'tangent'), m], {}, 'dx')];
};

/** d = sqrt(sum((a - b)^2) + eps): da = dy * (a - b) / d, db = -da. */
export const euclideanDistance: VjpRule<DistanceAttrs> = (args) => {
  const { b } = args;
  const [x, y] = args.inputs;
  const g = b.op('div', [onlyDy(args), args.outputs[0]], {}, 'g');
  const da = b.op('mul', [b.op('sub', [x, y], {}, 'diff'), g], {}, 'da');
  return [da, args.needs[1] ? b.op('scale', [da], { alpha: -1 }, 'db') : undefined];
};

/** s = a.b / (ma mb): da = dy (b / (ma mb) - s a / ma^2), and symmetrically (exact where norms > eps). */
export const cosineSimilarity: VjpRule<DistanceAttrs> = (args) => {
  const { b, attrs: a } = args;
  const [x, y] = args.inputs as [Value, Value];
  const s = args.outputs[0]!;
  const dy = onlyDy(args);
  const mx = clampedNorm(b, x, 1, a.eps, 'norm_a');
  const my = clampedNorm(b, y, 1, a.eps, 'norm_b');
  const both = b.op('mul', [mx, my], {}, 'norms');
  const side = (self: Value, other: Value, m: Value, tag: string): Value => {
    const cross = b.op('div', [other, both], {}, `${tag}.cross`);
    const radial = b.op(
      'mul',
      [s, b.op('div', [self, b.op('mul', [m, m], {}, `${tag}.m2`)], {}, `${tag}.unit`)],
      {},
      `${tag}.radial`,
    );
    return b.op('mul', [dy, b.op('sub', [cross, radial], {}, `${tag}.slope`)], {}, tag);
  };
  return [args.needs[0] ? side(x, y, mx, 'da') : undefined, args.needs[1] ? side(y, x, my, 'db') : undefined];
};

/** dy / (number of elements of v): the gradient of a mean, as a scalar. */
function perElement(b: B, dy: Value, v: Value): Value {
  return b.op('div', [dy, b.op('numel', [v], {}, 'count')], {}, 'per_element');
}

/** dz = (sigmoid(z) - t) * dy / numel. */
export const bceWithLogits: VjpRule<Record<string, never>> = (args) => {
  const { b } = args;
  const [z, t] = args.inputs;
  const residual = b.op('sub', [b.op('sigmoid', [z], {}, 'p'), t], {}, 'residual');
  return [b.op('mul', [residual, perElement(b, onlyDy(args), z!)], {}, 'dz'), undefined];
};

/** dd = (y d - (1 - y) max(margin - d, 0)) * dy / numel (the 1/2 cancels the square's 2). */
export const contrastiveLoss: VjpRule<MarginAttrs> = (args) => {
  const { b } = args;
  const [d, y] = args.inputs as [Value, Value];
  const hinge = b.op(
    'relu',
    [b.op('scale', [d], { alpha: -1, beta: args.attrs.margin }, 'gap')],
    {},
    'hinge',
  );
  const pull = b.op('mul', [y, d], {}, 'pull');
  const push = b.op('mul', [b.op('scale', [y], { alpha: -1, beta: 1 }, 'different'), hinge], {}, 'push');
  const slope = b.op('sub', [pull, push], {}, 'slope');
  return [b.op('mul', [slope, perElement(b, onlyDy(args), d)], {}, 'dd'), undefined];
};

/** Rows whose hinge is active pull the positive in and push the negative out, along unit differences. */
export const tripletLoss: VjpRule<TripletAttrs> = (args) => {
  const { b, attrs: a } = args;
  const [anchor, pos, neg] = args.inputs as [Value, Value, Value];
  const unitDiff = (other: Value, tag: string): { unit: Value; norm: Value } => {
    const v = b.op('scale', [b.op('sub', [anchor, other], {}, `${tag}.sub`)], { beta: a.eps }, `${tag}.diff`);
    const sq = b.op(
      'reduceSum',
      [b.op('mul', [v, v], {}, `${tag}.sq`)],
      { axes: [1], keepDims: true },
      `${tag}.sum`,
    );
    const norm = b.op('sqrt', [sq], {}, `${tag}.norm`);
    return { unit: b.op('div', [v, norm], {}, `${tag}.unit`), norm };
  };
  const p = unitDiff(pos, 'pos');
  const n = unitDiff(neg, 'neg');
  const margin = b.op('scale', [b.op('sub', [p.norm, n.norm], {}, 'gap')], { beta: a.margin }, 'hinge');
  const g = b.op('reluGrad', [perElement(b, onlyDy(args), margin), margin], {}, 'g');
  const gp = b.op('mul', [g, p.unit], {}, 'toward_pos');
  const gn = b.op('mul', [g, n.unit], {}, 'toward_neg');
  return [
    b.op('sub', [gp, gn], {}, 'danchor'),
    args.needs[1] ? b.op('scale', [gp], { alpha: -1 }, 'dpositive') : undefined,
    args.needs[2] ? gn : undefined,
  ];
};

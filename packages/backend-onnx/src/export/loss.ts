/** Losses as compositions that follow the op docs term by term; each ends in a mean over every element. */
import type { MarginAttrs, TripletAttrs } from '@siamese/core';
import { reduceWithAttr } from './reduce.js';
import type { Lowering } from './types.js';

/** mean(max(z, 0) - z * t + log(1 + exp(-|z|))); Softplus(v) is log(1 + exp(v)). */
export const bceWithLogits: Lowering<Record<string, never>> = ({ ctx, inputs, outputs }) => {
  const [z, t] = [inputs[0]!, inputs[1]!];
  const softplus = ctx.op('Softplus', [ctx.op('Neg', [ctx.op('Abs', [z])])]);
  const linear = ctx.op('Sub', [ctx.op('Relu', [z]), ctx.op('Mul', [z, t])]);
  reduceWithAttr(ctx, 'ReduceMean', ctx.op('Add', [linear, softplus]), [], false, outputs[0]);
};

/** mean(y * d^2 + (1 - y) * max(margin - d, 0)^2) / 2. */
export const contrastiveLoss: Lowering<MarginAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  const [d, y] = [inputs[0]!, inputs[1]!];
  const same = ctx.op('Mul', [y, ctx.op('Mul', [d, d])]);
  const hinge = ctx.op('Relu', [ctx.op('Sub', [ctx.scalar(a.margin), d])]);
  const different = ctx.op('Mul', [ctx.op('Sub', [ctx.scalar(1), y]), ctx.op('Mul', [hinge, hinge])]);
  const mean = reduceWithAttr(ctx, 'ReduceMean', ctx.op('Add', [same, different]), [], false);
  ctx.op('Mul', [mean, ctx.scalar(0.5)], [], outputs[0]);
};

/** mean(max(||a - p + eps|| - ||a - n + eps|| + margin, 0)), norms over axis 1 (TripletMarginLoss). */
export const tripletLoss: Lowering<TripletAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  const [anchor, positive, negative] = [inputs[0]!, inputs[1]!, inputs[2]!];
  const eps = ctx.scalar(a.eps);
  const dist = (other: string): string =>
    reduceWithAttr(ctx, 'ReduceL2', ctx.op('Add', [ctx.op('Sub', [anchor, other]), eps]), [1], false);
  const margin = ctx.op('Add', [ctx.op('Sub', [dist(positive), dist(negative)]), ctx.scalar(a.margin)]);
  reduceWithAttr(ctx, 'ReduceMean', ctx.op('Relu', [margin]), [], false, outputs[0]);
};

/** The loss ops, each a scalar mean, as torch's own losses or term by term from the op docs. */
import type { MarginAttrs, TripletAttrs } from '@siamese/core';
import { float, power } from './python.js';
import type { Emit } from './types.js';

/** torch.nn.BCEWithLogitsLoss: mean(max(z, 0) - z * t + log(1 + exp(-|z|))). */
export const bceWithLogits: Emit<Record<string, never>> = ({ input }) =>
  `F.binary_cross_entropy_with_logits(${input(0)}, ${input(1)})`;

/** mean(y * d^2 + (1 - y) * max(margin - d, 0)^2) / 2, y = 1 for a same pair. */
export const contrastiveLoss: Emit<MarginAttrs> = ({ input, attrs: a }) => {
  const [d, y] = [input(0), input(1)];
  return `0.5 * (${y} * ${power(d, '2')} + (1 - ${y}) * ${power(`F.relu(${float(a.margin)} - ${d})`, '2')}).mean()`;
};

/** torch.nn.TripletMarginLoss (p = 2). */
export const tripletLoss: Emit<TripletAttrs> = ({ input, attrs: a }) =>
  `F.triplet_margin_loss(${input(0)}, ${input(1)}, ${input(2)}, margin=${float(a.margin)}, p=2.0, eps=${float(a.eps)})`;

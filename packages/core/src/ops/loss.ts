/** Loss ops, declared in the IR so every backend lowers them like any other op. Each gives a scalar mean. */
import { ShapeError } from '../ir/errors.js';
import { boundSize, formatType, shapesEqual } from '../ir/shape.js';
import type { TensorType } from '../ir/types.js';
import { checkKnown, num } from './attrs.js';
import { float } from './check.js';
import type { OpSpec } from './spec.js';

const scalar: TensorType = { dtype: 'float32', shape: [] };

function same(a: TensorType, an: string, b: TensorType, bn: string): void {
  if (!shapesEqual(a.shape, b.shape)) {
    throw new ShapeError(`${an} ${formatType(a)} and ${bn} ${formatType(b)} must have the same shape`);
  }
}

export const bceWithLogits: OpSpec<Record<string, never>> = {
  doc:
    'mean(max(z, 0) - z * t + log(1 + exp(-|z|))) for logits z and targets t in [0, 1] (1 = same); ' +
    'torch.nn.BCEWithLogitsLoss, computed stably.',
  inputs: [{ name: 'logits' }, { name: 'targets' }],
  outputs: ['loss'],
  attrs: (raw) => {
    checkKnown(raw, []);
    return {};
  },
  shape: ([z, t]) => {
    same(float(z, 'logits'), 'logits', float(t, 'targets'), 'targets');
    return [scalar];
  },
  flops: ([z], _o, _a, bind) => 4 * boundSize(z!.shape, bind),
};

export interface MarginAttrs {
  readonly margin: number;
}

export const contrastiveLoss: OpSpec<MarginAttrs> = {
  doc:
    'mean(y * d^2 + (1 - y) * max(margin - d, 0)^2) / 2 for distances d [N, 1] and labels y [N, 1] with ' +
    'y = 1 for a SAME pair and 0 for a different one (the BCE target convention; Hadsell et al. 2006 write it with Y = 0 for similar).',
  inputs: [{ name: 'distance' }, { name: 'labels' }],
  outputs: ['loss'],
  attrs: (raw) => {
    checkKnown(raw, ['margin']);
    return { margin: num(raw, 'margin', 1, 0) };
  },
  shape: ([d, y]) => {
    same(float(d, 'distance'), 'distance', float(y, 'labels'), 'labels');
    return [scalar];
  },
  flops: ([d], _o, _a, bind) => 6 * boundSize(d!.shape, bind),
};

export interface TripletAttrs extends MarginAttrs {
  /** Added to each difference before its norm, as torch.nn.TripletMarginLoss does. */
  readonly eps: number;
}

export const tripletLoss: OpSpec<TripletAttrs> = {
  doc:
    'mean(max(||a - p + eps|| - ||a - n + eps|| + margin, 0)) over rows of anchor a, positive p and ' +
    'negative n [N, D] (torch.nn.TripletMarginLoss, p = 2).',
  inputs: [{ name: 'anchor' }, { name: 'positive' }, { name: 'negative' }],
  outputs: ['loss'],
  attrs: (raw) => {
    checkKnown(raw, ['margin', 'eps']);
    return { margin: num(raw, 'margin', 1, 0), eps: num(raw, 'eps', 1e-6, 0) };
  },
  shape: ([a, p, n]) => {
    const at = float(a, 'anchor', 2);
    same(at, 'anchor', float(p, 'positive'), 'positive');
    same(at, 'anchor', float(n, 'negative'), 'negative');
    return [scalar];
  },
  flops: ([a], _o, _a, bind) => 6 * boundSize(a!.shape, bind),
};

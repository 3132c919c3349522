/**
 * Identity classification (NormFace, CosFace, ArcFace, as in face recognition and
 * pytorch-metric-learning): margin logits from the cosines of embeddings to class centres, softmax
 * cross-entropy over class indices, and the softmax and oneHot their gradients are written in.
 * Labels are float32 class indices, one per row; the number of classes C must be static.
 */
import { ShapeError } from '../ir/errors.js';
import { boundSize, dimsEqual, formatType } from '../ir/shape.js';
import type { TensorType } from '../ir/types.js';
import { bool, checkKnown, int, none, num, oneOf } from './attrs.js';
import { float, normAxis, staticDim } from './check.js';
import type { OpSpec } from './spec.js';

export type MarginKind = 'normface' | 'cosface' | 'arcface';
export const MARGIN_KINDS: readonly MarginKind[] = ['normface', 'cosface', 'arcface'];

/** The default margin of each kind (NormFace has none). */
export const MARGIN_DEFAULTS: Readonly<Record<MarginKind, number>> = {
  normface: 0,
  cosface: 0.35,
  arcface: 0.5,
};

export interface MarginLogitsAttrs {
  readonly kind: MarginKind;
  /** s > 0: every logit is s times a cosine (or the target's margin-adjusted cosine). */
  readonly scale: number;
  /** m >= 0: subtracted from the target cosine (cosface) or added to its angle (arcface); 0 for normface. */
  readonly margin: number;
  /** arcface only: the margin applies where cos > 0, elsewhere the target keeps its cosine. */
  readonly easyMargin: boolean;
}

/**
 * 1 - cos^2 is clamped to this inside arcface's derivative (never in the forward): 2^-23, the
 * smallest positive value (1 - c)(1 + c) takes for a float32 c, so only |cos| >= 1 is affected and the
 * slope there is that of the float32 neighbour of 1 (finite, about s * sin(m) * 2896).
 */
export const ARCFACE_SINE2_EPS = 2 ** -23;

/** ArcFace's constants for margin m (insightface / ArcMarginProduct). */
export function arcfaceConstants(m: number): {
  readonly cosM: number;
  readonly sinM: number;
  /** Threshold: phi applies where cos > th = cos(pi - m). */
  readonly th: number;
  /** The linear fallback below the threshold is cos - mm, mm = sin(pi - m) * m. */
  readonly mm: number;
} {
  return {
    cosM: Math.cos(m),
    sinM: Math.sin(m),
    th: Math.cos(Math.PI - m),
    mm: Math.sin(Math.PI - m) * m,
  };
}

/** [N, C] scores and [N] labels with the same N; C static. Returns [N, C]. */
function scoresAndLabels(
  st: TensorType | undefined,
  sName: string,
  lt: TensorType | undefined,
  lName: string,
): TensorType {
  const s = float(st, sName, 2);
  const l = float(lt, lName, 1);
  staticDim(s.shape[1], `the number of classes (dimension 1 of ${sName} ${formatType(s)})`);
  if (!dimsEqual(s.shape[0]!, l.shape[0]!)) {
    throw new ShapeError(
      `${lName} ${formatType(l)} must have one entry per row of ${sName} ${formatType(s)}`,
    );
  }
  return s;
}

export const marginLogits: OpSpec<MarginLogitsAttrs> = {
  doc:
    "y = s * cosine [N, C], except at each row's target column c = labels[n]: s * cos (normface), " +
    's * (cos - m) (cosface), or s * phi (arcface) with phi = cos(acos(cos) + m) = cos * cos(m) - ' +
    'sqrt(max(1 - cos^2, 0)) * sin(m) where cos > cos(pi - m), else cos - m * sin(pi - m) ' +
    '(insightface ArcMarginProduct); easyMargin: phi where cos > 0, else cos; its gradient clamps ' +
    '1 - cos^2 at 2^-23, finite at |cos| = 1. Defaults: scale 30, ' +
    'margin 0 / 0.35 / 0.5, easyMargin false. Labels are float32 class indices; a row whose label is ' +
    'no column index gets no margin.',
  inputs: [{ name: 'cosine' }, { name: 'labels' }],
  outputs: ['logits'],
  attrs: (raw) => {
    checkKnown(raw, ['kind', 'scale', 'margin', 'easyMargin']);
    if (raw.kind === undefined) {
      throw new ShapeError(
        `attribute 'kind' is required (one of ${MARGIN_KINDS.map((k) => `'${k}'`).join(', ')})`,
      );
    }
    const kind = oneOf(raw, 'kind', 'arcface', MARGIN_KINDS);
    const scale = num(raw, 'scale', 30, 0);
    if (scale === 0) throw new ShapeError(`attribute 'scale' must be > 0, got 0`);
    const margin = num(raw, 'margin', MARGIN_DEFAULTS[kind], 0, kind === 'arcface' ? Math.PI : Infinity);
    if (kind === 'normface' && margin !== 0)
      throw new ShapeError(`attribute 'margin' must be 0 for kind 'normface', got ${margin}`);
    const easyMargin = bool(raw, 'easyMargin', false);
    if (easyMargin && kind !== 'arcface')
      throw new ShapeError(`attribute 'easyMargin' applies to kind 'arcface' only, got kind '${kind}'`);
    return { kind, scale, margin, easyMargin };
  },
  shape: ([c, l]) => [{ dtype: 'float32', shape: scoresAndLabels(c, 'cosine', l, 'labels').shape }],
  // s * cos everywhere, the one-hot select, and a few ops per row for the target.
  flops: ([c], _o, _a, bind) => 2 * boundSize(c!.shape, bind) + 8 * boundSize(c!.shape.slice(0, 1), bind),
};

export const softmaxCrossEntropy: OpSpec<Record<string, never>> = {
  doc:
    'mean over rows of logsumexp(logits[n]) - logits[n, labels[n]] for logits [N, C] and float32 class ' +
    'indices labels [N] (torch.nn.functional.cross_entropy), computed stably; a scalar.',
  inputs: [{ name: 'logits' }, { name: 'labels' }],
  outputs: ['loss'],
  attrs: none,
  shape: ([z, l]) => {
    scoresAndLabels(z, 'logits', l, 'labels');
    return [{ dtype: 'float32', shape: [] }];
  },
  flops: ([z], _o, _a, bind) => 4 * boundSize(z!.shape, bind),
};

export interface SoftmaxAttrs {
  readonly axis: number;
}

export const softmax: OpSpec<SoftmaxAttrs> = {
  doc: 'y = exp(x - max(x)) / sum(exp(x - max(x))) along axis (torch.softmax), computed stably.',
  inputs: [{ name: 'x' }],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['axis']);
    return { axis: int(raw, 'axis', -1) };
  },
  shape: ([xt], a) => {
    const x = float(xt, 'x');
    normAxis(a.axis, x.shape.length);
    return [{ dtype: 'float32', shape: x.shape }];
  },
  flops: (_i, [y], _a, bind) => 3 * boundSize(y!.shape, bind),
};

export const oneHot: OpSpec<Record<string, never>> = {
  doc:
    'y [N, C] = 1 where the column index equals labels[n], else 0, for float32 class indices labels [N] ' +
    'and C from like [N, C] (its values are not read); a label that is no column index gives a zero row.',
  inputs: [{ name: 'labels' }, { name: 'like' }],
  outputs: ['y'],
  attrs: none,
  shape: ([l, like]) => [{ dtype: 'float32', shape: scoresAndLabels(like, 'like', l, 'labels').shape }],
  flops: (_i, [y], _a, bind) => boundSize(y!.shape, bind),
};

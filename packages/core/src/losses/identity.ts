/**
 * Identity-classification losses (NormFace, CosFace, ArcFace): a cosine classifier over the
 * training identities, a margin on each row's own class, softmax cross-entropy. The classifier's
 * weight is a training-only parameter (`classifier.weight`): kept in checkpoints, never part of the
 * inference graph, whose head compares two embeddings by cosine similarity.
 */
import type { GraphBuilder } from '../ir/builder.js';
import type { Value } from '../ir/types.js';

export const IDENTITY_LOSS_KINDS = ['normface', 'cosface', 'arcface'] as const;
export type IdentityLossKind = (typeof IDENTITY_LOSS_KINDS)[number];

export interface IdentityLossConfig {
  readonly kind: IdentityLossKind;
  /** Training identities: the classifier's rows. */
  readonly classes: number;
  /** s: the logits' scale. Default 30. */
  readonly scale?: number;
  /** m: CosFace's cosine margin (default 0.35) or ArcFace's angular margin in radians (default 0.5); NormFace has none. */
  readonly margin?: number;
  /** ArcFace only: apply the margin only where cos > 0 (default false: the threshold rule). */
  readonly easyMargin?: boolean;
}

export const IDENTITY_DEFAULTS: { readonly [K in IdentityLossKind]: { scale: number; margin: number } } = {
  normface: { scale: 30, margin: 0 },
  cosface: { scale: 30, margin: 0.35 },
  arcface: { scale: 30, margin: 0.5 },
};

/** The classifier's parameter name: training-only, dropped from the inference weights. */
export const CLASSIFIER_WEIGHT = 'classifier.weight';

export function isIdentityLoss(loss: { readonly kind: string }): loss is IdentityLossConfig {
  return (IDENTITY_LOSS_KINDS as readonly string[]).includes(loss.kind);
}

/** The settings with every default written out, checked. */
export function resolveIdentityLoss(c: IdentityLossConfig): Required<IdentityLossConfig> {
  const d = IDENTITY_DEFAULTS[c.kind];
  const r = {
    kind: c.kind,
    classes: c.classes,
    scale: c.scale ?? d.scale,
    margin: c.margin ?? d.margin,
    easyMargin: c.easyMargin ?? false,
  };
  if (!Number.isInteger(r.classes) || r.classes < 2)
    throw new Error(`${c.kind}: classes must be an integer >= 2 (training identities), got ${c.classes}`);
  if (!(r.scale > 0)) throw new Error(`${c.kind}: scale must be > 0, got ${r.scale}`);
  if (!(r.margin >= 0)) throw new Error(`${c.kind}: margin must be >= 0, got ${r.margin}`);
  if (c.kind === 'normface' && r.margin !== 0)
    throw new Error(`normface has no margin (got ${r.margin}): use cosface or arcface for one`);
  if (c.kind === 'arcface' && r.margin >= Math.PI / 2)
    throw new Error(`arcface: margin is an angle in radians and must be < pi/2, got ${r.margin}`);
  if (c.kind !== 'arcface' && c.easyMargin)
    throw new Error(`easyMargin is an arcface setting, not ${c.kind}'s`);
  return r;
}

/**
 * The loss for embeddings [N, D] and labels [N] (class indices 0..classes-1, as float32): softmax
 * cross-entropy over s * cos(embedding, class centre), with the kind's margin on the true class.
 */
export function identityLoss(
  b: GraphBuilder,
  embedding: Value,
  labels: Value,
  config: IdentityLossConfig,
): Value {
  const c = resolveIdentityLoss(config);
  const d = embedding.shape[1];
  if (typeof d !== 'number')
    throw new Error(`${c.kind}: the embedding width must be known, got ${String(d)}`);
  // Xavier-uniform, as the reference implementations initialise their class centres.
  const w = b.param(CLASSIFIER_WEIGHT, [c.classes, d], {
    kind: 'uniform',
    bound: Math.sqrt(6 / (c.classes + d)),
  });
  const unitE = b.op('l2Normalize', [embedding], { axis: 1, eps: 1e-12 }, 'identity.embedding');
  const unitW = b.op('l2Normalize', [w], { axis: 1, eps: 1e-12 }, 'identity.centres');
  // linear without a bias: unitE @ unitW^T, the cosine of each embedding to each class centre.
  const cosine = b.op('linear', [unitE, unitW], {}, 'identity.cosine');
  const logits = b.op(
    'marginLogits',
    [cosine, labels],
    { kind: c.kind, scale: c.scale, margin: c.margin, easyMargin: c.easyMargin },
    'identity.logits',
  );
  return b.op('softmaxCrossEntropy', [logits, labels], {}, 'loss');
}

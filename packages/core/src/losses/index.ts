export { bceLoss } from './bce.js';
export { contrastiveLoss, DEFAULT_CONTRASTIVE_MARGIN } from './contrastive.js';
export {
  CLASSIFIER_WEIGHT,
  IDENTITY_DEFAULTS,
  IDENTITY_LOSS_KINDS,
  type IdentityLossConfig,
  type IdentityLossKind,
  identityLoss,
  isIdentityLoss,
  resolveIdentityLoss,
} from './identity.js';
export { DEFAULT_TRIPLET_MARGIN, tripletLoss } from './triplet.js';

import type { IdentityLossConfig } from './identity.js';

export type LossConfig =
  | { readonly kind: 'bce' }
  | { readonly kind: 'contrastive'; readonly margin?: number }
  | { readonly kind: 'triplet'; readonly margin?: number }
  | IdentityLossConfig;

export const LOSS_KINDS = ['bce', 'contrastive', 'triplet', 'normface', 'cosface', 'arcface'] as const;

export { bceLoss } from './bce.js';
export { contrastiveLoss, DEFAULT_CONTRASTIVE_MARGIN } from './contrastive.js';
export { DEFAULT_TRIPLET_MARGIN, tripletLoss } from './triplet.js';

export type LossConfig =
  | { readonly kind: 'bce' }
  | { readonly kind: 'contrastive'; readonly margin?: number }
  | { readonly kind: 'triplet'; readonly margin?: number };

export const LOSS_KINDS = ['bce', 'contrastive', 'triplet'] as const;

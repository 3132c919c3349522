/** Triplet margin loss over anchor, positive and negative embeddings (torch.nn.TripletMarginLoss). */
import type { GraphBuilder } from '../ir/builder.js';
import type { Value } from '../ir/types.js';

export const DEFAULT_TRIPLET_MARGIN = 1;

export function tripletLoss(
  b: GraphBuilder,
  anchor: Value,
  positive: Value,
  negative: Value,
  margin = DEFAULT_TRIPLET_MARGIN,
): Value {
  return b.op('tripletLoss', [anchor, positive, negative], { margin }, 'loss');
}

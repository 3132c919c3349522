/** Contrastive loss on the euclidean distance between the two embeddings (Hadsell et al. 2006). */
import type { GraphBuilder } from '../ir/builder.js';
import type { Value } from '../ir/types.js';

export const DEFAULT_CONTRASTIVE_MARGIN = 1;

/**
 * `labels` [N, 1]: 1 for a SAME pair (pulled together), 0 for a different pair (pushed at least
 * `margin` apart). Returns the loss; `distance` is exposed for monitoring and calibration.
 */
export function contrastiveLoss(
  b: GraphBuilder,
  embeddingA: Value,
  embeddingB: Value,
  labels: Value,
  margin = DEFAULT_CONTRASTIVE_MARGIN,
): { loss: Value; distance: Value } {
  const distance = b.op('euclideanDistance', [embeddingA, embeddingB], {}, 'distance');
  return { loss: b.op('contrastiveLoss', [distance, labels], { margin }, 'loss'), distance };
}

/** Binary cross-entropy on the same/different logit: the original Siamese objective. */
import type { GraphBuilder } from '../ir/builder.js';
import type { Value } from '../ir/types.js';

/** `labels` [N, 1]: 1 for a pair showing the same thing, 0 otherwise. */
export function bceLoss(b: GraphBuilder, logit: Value, labels: Value): Value {
  return b.op('bceWithLogits', [logit, labels], {}, 'loss');
}

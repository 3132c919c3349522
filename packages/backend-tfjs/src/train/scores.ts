/** What `evaluate` scores with: core's rule, shared by every backend. */
export { type ScoreKind, scoreKind } from '@siamese/core';

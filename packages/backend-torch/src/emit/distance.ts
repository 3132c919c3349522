/** l2Normalize, euclideanDistance and cosineSimilarity written term by term from the op docs. */
import type { DistanceAttrs, L2NormalizeAttrs } from '@siamese/core';
import { float, num } from './python.js';
import type { Emit } from './types.js';

/** y = x / max(||x||_2 along axis, eps) (F.normalize). */
export const l2Normalize: Emit<L2NormalizeAttrs> = ({ input, attrs: a }) =>
  `F.normalize(${input(0)}, p=2.0, dim=${num(a.axis)}, eps=${float(a.eps)})`;

/** d = sqrt(sum((a - b)^2, axis 1) + eps), [N, 1]. */
export const euclideanDistance: Emit<DistanceAttrs> = ({ input, attrs: a }) =>
  `torch.sqrt(((${input(0)} - ${input(1)}) ** 2).sum(dim=1, keepdim=True) + ${float(a.eps)})`;

/** s = sum(a * b, axis 1) / (max(||a||, eps) * max(||b||, eps)), [N, 1]. */
export const cosineSimilarity: Emit<DistanceAttrs> = ({ input, attrs: a }) => {
  const norm = (x: string) =>
    `torch.linalg.vector_norm(${x}, dim=1, keepdim=True).clamp_min(${float(a.eps)})`;
  return `(${input(0)} * ${input(1)}).sum(dim=1, keepdim=True) / (${norm(input(0))} * ${norm(input(1))})`;
};

/** l2Normalize, euclideanDistance and cosineSimilarity as compositions that follow the op docs term by term. */
import type { DistanceAttrs, L2NormalizeAttrs } from '@siamese/core';
import { reduceSumOf, reduceWithAttr } from './reduce.js';
import type { Lowering } from './types.js';

/** y = x / max(||x||_2 along axis, eps). */
export const l2Normalize: Lowering<L2NormalizeAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  const x = inputs[0]!;
  const norm = reduceWithAttr(ctx, 'ReduceL2', x, [a.axis], true);
  ctx.op('Div', [x, ctx.op('Max', [norm, ctx.scalar(a.eps)])], [], outputs[0]);
};

/** d = sqrt(sum((a - b)^2, axis 1) + eps), [N, 1]. */
export const euclideanDistance: Lowering<DistanceAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  const diff = ctx.op('Sub', [inputs[0]!, inputs[1]!]);
  const sum = reduceSumOf(ctx, ctx.op('Mul', [diff, diff]), [1], true);
  ctx.op('Sqrt', [ctx.op('Add', [sum, ctx.scalar(a.eps)])], [], outputs[0]);
};

/** s = sum(a * b, axis 1) / (max(||a||, eps) * max(||b||, eps)), [N, 1]. */
export const cosineSimilarity: Lowering<DistanceAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  const [x, y] = [inputs[0]!, inputs[1]!];
  const eps = ctx.scalar(a.eps);
  const dot = reduceSumOf(ctx, ctx.op('Mul', [x, y]), [1], true);
  const nx = ctx.op('Max', [reduceWithAttr(ctx, 'ReduceL2', x, [1], true), eps]);
  const ny = ctx.op('Max', [reduceWithAttr(ctx, 'ReduceL2', y, [1], true), eps]);
  ctx.op('Div', [dot, ctx.op('Mul', [nx, ny])], [], outputs[0]);
};

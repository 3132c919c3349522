/** linear → nn.Linear at the weight's module path (the head's `head.0`), dropout, matmul. */
import type { DropoutAttrs, MatmulAttrs } from '@siamese/core';
import { float, num } from './python.js';
import type { Emit } from './types.js';

export const linear: Emit<Record<string, never>> = ({ ctx, node, input, inputTypes }) => {
  const bias = node.inputs[2] || undefined;
  const path = ctx.ownerPath([
    [node.inputs[1], 'weight'],
    [bias, 'bias'],
  ]);
  if (path === undefined) return `F.linear(${input(0)}, ${input(1)}, ${bias ? input(2) : 'None'})`;
  const [outF, inF] = inputTypes[1]!.shape as number[];
  const m = ctx.module(path, `nn.Linear(${num(inF!)}, ${num(outF!)}${bias ? '' : ', bias=False'})`, [
    node.inputs[1]!,
    ...(bias ? [bias] : []),
  ]);
  return `${m}(${input(0)})`;
};

/**
 * Dropout in train mode draws its masks from torch's generator (core's training step feeds masks
 * drawn from its own seeded generator, so the two agree only with dropout off or masks fixed).
 */
export const dropout: Emit<DropoutAttrs> = ({ input, attrs: a }) =>
  a.p === 0 ? input(0) : `F.dropout(${input(0)}, p=${float(a.p)}, training=self.training)`;

export const matmul: Emit<MatmulAttrs> = ({ input, attrs: a }) =>
  `torch.matmul(${input(0)}${a.transA ? '.t()' : ''}, ${input(1)}${a.transB ? '.t()' : ''})`;

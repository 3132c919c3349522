/**
 * batchNorm → nn.BatchNorm2d (1d for [N, C] inputs) at the weight's module path: eval mode normalizes
 * with the running statistics, train mode with the batch's and updates them (momentum,
 * num_batches_tracked) exactly as core's batchNormTrain does. batchNormTrain and batchNormGrad belong
 * to core's training-step graph, which the PyTorch target does not emit (autograd computes gradients).
 */
import type { BatchNormAttrs } from '@siamese/core';
import { float, num } from './python.js';
import { type Emit, type NotEmitted, notEmitted } from './types.js';

export const batchNorm: Emit<BatchNormAttrs> = ({ ctx, node, input, inputTypes, attrs: a }) => {
  const [, weight, bias, mean, variance, count] = node.inputs;
  const path = ctx.ownerPath([
    [weight, 'weight'],
    [bias, 'bias'],
    [mean, 'running_mean'],
    [variance, 'running_var'],
    [count, 'num_batches_tracked'],
  ]);
  const rank = inputTypes[0]!.shape.length;
  if (path === undefined || !weight || !bias || !mean || !variance || !count || (rank !== 4 && rank !== 2)) {
    // Functional form (statistics not under one module path): follows the module's train/eval
    // mode as nn.BatchNorm does: batch statistics in train mode, updating the running ones in place.
    if (!ctx.inModule) {
      throw new Error(
        `${ctx.place}: batchNorm outside the model's module cannot follow train/eval mode (no self.training); the PyTorch target supports it in the model only`,
      );
    }
    return `F.batch_norm(${input(0)}, ${input(3)}, ${input(4)}, ${input(1)}, ${input(2)}, self.training, ${float(a.momentum)}, ${float(a.eps)})`;
  }
  const channels = inputTypes[1]!.shape[0] as number;
  const m = ctx.module(
    path,
    `nn.BatchNorm${rank === 4 ? '2d' : '1d'}(${num(channels)}${a.eps === 1e-5 ? '' : `, eps=${float(a.eps)}`}${a.momentum === 0.1 ? '' : `, momentum=${float(a.momentum)}`})`,
    [weight, bias, mean, variance, count],
  );
  return `${m}(${input(0)})`;
};

const GRAPH_ONLY =
  "part of core's training-step graph; the generated module trains with torch's autograd, where nn.BatchNorm2d in train mode is this op";

export const batchNormTrain: NotEmitted = notEmitted(GRAPH_ONLY);
export const batchNormGrad: NotEmitted = notEmitted(
  "a gradient op of core's autodiff; torch's autograd computes gradients",
);

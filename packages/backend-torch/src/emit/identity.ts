/**
 * The identity losses' ops. softmax, oneHot and softmaxCrossEntropy are plain torch calls;
 * marginLogits (normface, cosface, arcface) is not emitted: the PyTorch target's train.py samples
 * pairs, and identity-loss training needs an m-per-class sampler and a training-only classifier.
 */
import type { SoftmaxAttrs } from '@siamese/core';
import { num } from './python.js';
import { type Emit, type NotEmitted, notEmitted } from './types.js';

export const softmax: Emit<SoftmaxAttrs> = ({ input, attrs: a }) =>
  `torch.softmax(${input(0)}, dim=${num(a.axis)})`;

export const oneHot: Emit<Record<string, never>> = ({ input }) =>
  `F.one_hot(${input(0)}.long(), ${input(1)}.shape[1]).to(${input(1)}.dtype)`;

export const softmaxCrossEntropy: Emit<Record<string, never>> = ({ input }) =>
  `F.cross_entropy(${input(0)}, ${input(1)}.long())`;

export const marginLogits: NotEmitted = notEmitted(
  "identity losses (normface, cosface, arcface) are not part of the PyTorch target: its train.py trains pair losses (bce, contrastive); train them with 'siamese train'",
);

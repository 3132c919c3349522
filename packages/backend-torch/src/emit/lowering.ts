/**
 * THE lowering table of the PyTorch target: one entry per core op, typed against core's op table,
 * so an op added to core without an entry here is a compile error. An entry is a function writing
 * the op as one Python expression, or `notEmitted(why)`: the gradient ops (torch's autograd replaces
 * core's autodiff) and the identity losses' margin op.
 */
import type { OpAttrs, OpName } from '@siamese/core';
import { conv2d } from './conv.js';
import { conv2dFilterGrad, conv2dInputGrad } from './conv-grad.js';
import { cosineSimilarity, euclideanDistance, l2Normalize } from './distance.js';
import {
  abs,
  add,
  clamp,
  div,
  exp,
  mul,
  relu,
  reluGrad,
  scale,
  sigmoid,
  sign,
  sqrt,
  sub,
} from './elementwise.js';
import { marginLogits, oneHot, softmax, softmaxCrossEntropy } from './identity.js';
import { broadcastTo, concat, flatten, reshapeLike, slice, sumTo } from './layout.js';
import { dropout, linear, matmul } from './linear.js';
import { bceWithLogits, contrastiveLoss, tripletLoss } from './loss.js';
import { batchNorm, batchNormGrad, batchNormTrain } from './norm.js';
import { globalAvgPool, maxPool2d, maxPool2dGrad } from './pool.js';
import { numel, reduceMean, reduceSum } from './reduce.js';
import type { Lowering } from './types.js';

export type LoweringTable = { readonly [K in OpName]: Lowering<OpAttrs[K]> };

export const LOWERINGS: LoweringTable = {
  conv2d,
  batchNorm,
  relu,
  maxPool2d,
  globalAvgPool,
  flatten,
  linear,
  dropout,
  add,
  sub,
  mul,
  abs,
  sigmoid,
  concat,
  l2Normalize,
  euclideanDistance,
  cosineSimilarity,
  reduceMean,
  reduceSum,
  bceWithLogits,
  contrastiveLoss,
  tripletLoss,
  marginLogits,
  softmaxCrossEntropy,
  div,
  sqrt,
  exp,
  sign,
  scale,
  clamp,
  reluGrad,
  matmul,
  slice,
  reshapeLike,
  broadcastTo,
  sumTo,
  numel,
  conv2dInputGrad,
  conv2dFilterGrad,
  maxPool2dGrad,
  batchNormTrain,
  batchNormGrad,
  softmax,
  oneHot,
};

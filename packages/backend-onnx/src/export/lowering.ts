/**
 * THE lowering table: one entry per core op, typed against core's op table, so an op added to core
 * without a lowering here is a compile error. Every entry lowers to stock opset-17 ops (batchNorm and
 * dropout in eval mode; training graphs use batchNormTrain and mask multiplies instead).
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
import { batchNorm } from './norm.js';
import { batchNormGrad, batchNormTrain } from './norm-train.js';
import { globalAvgPool, maxPool2d } from './pool.js';
import { maxPool2dGrad } from './pool-grad.js';
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

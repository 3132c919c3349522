/**
 * The lowering table, typed against core's op table: an op added to core and forgotten here is a
 * compile error.
 */
import type { OpAttrs, OpName } from '@siamese/core';
import type { Lowering } from './context.js';
import { conv2d, conv2dFilterGrad, conv2dInputGrad } from './conv.js';
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
  // Training.
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

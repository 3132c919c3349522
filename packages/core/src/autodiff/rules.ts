/**
 * THE vector-Jacobian table, beside the shape and FLOP rules: one entry per op, so an op added to the
 * table without a decision about its gradient is a compile error. `null` means the op is not
 * differentiated: eval-mode batchNorm and dropout are rewritten first (`trainingForm`), and the
 * gradient ops themselves are never differentiated again.
 */
import type { OpAttrs, OpName } from '../ops/table.js';
import type { VjpRule } from './rule.js';
import * as el from './rules-elementwise.js';
import * as id from './rules-identity.js';
import * as loss from './rules-loss.js';
import * as nn from './rules-nn.js';

export type VjpTable = { readonly [K in OpName]: VjpRule<OpAttrs[K]> | null };

export const VJP: VjpTable = {
  conv2d: nn.conv2d,
  batchNorm: null,
  relu: el.relu,
  maxPool2d: nn.maxPool2d,
  globalAvgPool: nn.globalAvgPool,
  flatten: nn.flatten,
  linear: nn.linear,
  dropout: null,
  add: el.add,
  sub: el.sub,
  mul: el.mul,
  abs: el.abs,
  sigmoid: el.sigmoid,
  concat: nn.concat,
  l2Normalize: loss.l2Normalize,
  euclideanDistance: loss.euclideanDistance,
  cosineSimilarity: loss.cosineSimilarity,
  reduceMean: nn.reduceMean,
  reduceSum: nn.reduceSum,
  bceWithLogits: loss.bceWithLogits,
  contrastiveLoss: loss.contrastiveLoss,
  tripletLoss: loss.tripletLoss,
  marginLogits: id.marginLogits,
  softmaxCrossEntropy: id.softmaxCrossEntropy,
  div: el.div,
  sqrt: el.sqrt,
  exp: el.exp,
  sign: el.constant,
  scale: el.scale,
  clamp: el.clamp,
  reluGrad: el.reluGrad,
  matmul: null,
  slice: null,
  reshapeLike: el.reshapeLike,
  broadcastTo: null,
  sumTo: el.sumTo,
  numel: el.constant,
  conv2dInputGrad: null,
  conv2dFilterGrad: null,
  maxPool2dGrad: null,
  batchNormTrain: nn.batchNormTrain,
  batchNormGrad: null,
  softmax: id.softmax,
  oneHot: el.constant,
};

/** Why an op has no rule, for the error message. */
export const NO_RULE_REASON: Partial<Record<OpName, string>> = {
  batchNorm:
    'differentiate the training form of the graph (trainingForm), where it is batchNormTrain; a frozen BatchNorm stays eval-mode there, and gradients cannot yet flow through one, so freeze from the input side (e.g. the whole encoder), not layers that trainable ones come before',
  dropout: 'differentiate the training form of the graph (trainingForm), where it is a mask multiply',
};

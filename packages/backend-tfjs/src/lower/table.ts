/**
 * The lowering table, typed against core's op table: an op added to core and forgotten here is a
 * compile error.
 */
import type { OpAttrs, OpName } from '@siamese/core';
import type { Lowering } from './context.js';
import { conv2d } from './conv.js';
import { cosineSimilarity, euclideanDistance, l2Normalize } from './distance.js';
import { abs, add, mul, relu, sigmoid, sub } from './elementwise.js';
import { concat, flatten } from './layout.js';
import { dropout, linear } from './linear.js';
import { bceWithLogits, contrastiveLoss, tripletLoss } from './loss.js';
import { batchNorm } from './norm.js';
import { globalAvgPool, maxPool2d } from './pool.js';
import { reduceMean, reduceSum } from './reduce.js';

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
};

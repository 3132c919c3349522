/**
 * The op table: one map from op name to its spec. Backends type their lowering tables against
 * `OpName`/`OpAttrs` so a forgotten op is a compile error.
 */
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
import type { OpSpec } from './spec.js';

export const OPS = {
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
  // Training: what autodiff and optimizer updates are written in.
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
} as const;

export type OpName = keyof typeof OPS;

/** The attribute type of each op, after defaults are filled in. */
export type OpAttrs = {
  [K in OpName]: (typeof OPS)[K] extends OpSpec<infer A> ? A : never;
};

export function isOpName(op: string): op is OpName {
  return Object.hasOwn(OPS, op);
}

export function opSpec<K extends OpName>(op: K): OpSpec<OpAttrs[K]> {
  return OPS[op] as unknown as OpSpec<OpAttrs[K]>;
}

/** The spec with attrs seen as a plain record, for generic passes (verify, summary) over stored nodes. */
export function untypedSpec(op: OpName): OpSpec<Record<string, unknown>> {
  return OPS[op] as unknown as OpSpec<Record<string, unknown>>;
}

/**
 * @siamese/core/portable: the part of core's model meaning that runs anywhere JavaScript does (no
 * Node built-ins), for the browser package: what preprocessing and a threshold are, and the sigmoid.
 * `portable.test.ts` bundles this entry for the browser, so a Node import here fails the tests.
 */
export { checkPreprocessing, type Preprocessing } from './artifact/preprocessing.js';
export type { Threshold } from './artifact/threshold.js';
export { IR_VERSION } from './ir/types.js';
export { logit, sigmoid } from './scoring/probability.js';

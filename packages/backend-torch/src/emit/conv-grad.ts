/** Convolution gradients belong to core's autodiff; the generated module trains with torch's autograd. */
import { type NotEmitted, notEmitted } from './types.js';

const GRADIENT = "a gradient op of core's autodiff; torch's autograd computes gradients";
export const conv2dInputGrad: NotEmitted = notEmitted(GRADIENT);
export const conv2dFilterGrad: NotEmitted = notEmitted(GRADIENT);

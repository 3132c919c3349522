/** Patch geometry of an NHWC convolution from tfjs's conv info (dilation 1: see lower/conv.ts). */
import { backend_util } from '@tensorflow/tfjs-core';
import type { PatchGeometry } from './im2col.js';

export function patchGeometry(
  inShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  pad: Parameters<typeof backend_util.computeConv2DInfo>[4],
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): PatchGeometry & { readonly outChannels: number } {
  const info = backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

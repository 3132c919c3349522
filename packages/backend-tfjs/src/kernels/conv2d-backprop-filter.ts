/**
 * Conv2DBackpropFilter for the wasm backend, which ships none: im2col (in JS, straight into the
 * wasm heap) followed by the backend's own BatchMatMul (XNNPACK, SIMD) for the GEMM.
 */
import {
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { patchGeometry } from './geometry.js';
import { im2colCols, im2colRows, im2colTransposed } from './im2col.js';
import { callKernel, type WasmBackendLike } from './wasm-backend.js';

export const conv2dBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackendLike;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const a = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (a.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter (wasm): only NHWC, got ${a.dataFormat}`);
  const g = patchGeometry(x.shape, a.filterShape, a.strides, a.pad, a.dimRoundingMode);
  const K = im2colRows(g);
  const M = im2colCols(g);
  const cols = be.makeOutput([1, K, M], 'float32');
  // Views after the allocation: growing the heap detaches earlier ones.
  im2colTransposed(be.typedArrayFromHeap(x) as Float32Array, g, be.typedArrayFromHeap(cols) as Float32Array);
  const dy3 = callKernel(be, 'Reshape', { x: dy }, { shape: [1, M, g.outChannels] });
  const prod = callKernel(be, 'BatchMatMul', { a: cols, b: dy3 }, { transposeA: false, transposeB: false });
  const out = callKernel(be, 'Reshape', { x: prod }, { shape: [...a.filterShape] });
  for (const t of [cols, dy3, prod]) be.disposeData(t.dataId);
  return out;
};

export const conv2dBackpropFilterWasmConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilterWasm,
};

/**
 * Conv2DBackpropInput for the wasm backend, replacing its direct loop (most of a ResNet training
 * step). Stride 1: a forward convolution of dy with the flipped filter (the backend's own Conv2D,
 * XNNPACK's indirect GEMM: no patch matrix, no col2im). Otherwise: dcols = dy [M, O] @ filter^T
 * [O, K] by the backend's BatchMatMul, then col2im.
 */
import {
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { col2imAdd } from './col2im.js';
import { flipFilter } from './flip-filter.js';
import { patchGeometry } from './geometry.js';
import { im2colCols, im2colRows } from './im2col.js';
import { callKernel, type WasmBackendLike } from './wasm-backend.js';

export const conv2dBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackendLike;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const a = attrs as unknown as Conv2DBackpropInputAttrs;
  if (a.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropInput (wasm): only NHWC, got ${a.dataFormat}`);
  const g = patchGeometry(a.inputShape, filter.shape, a.strides, a.pad, a.dimRoundingMode);
  const viaConv = transposedAsConv(be, dy, filter, g);
  if (viaConv) return viaConv;
  const K = im2colRows(g);
  const M = im2colCols(g);
  const O = g.outChannels;
  // The matmul's fast path has no transposed operand: transpose the (small) filter instead.
  const w2 = callKernel(be, 'Reshape', { x: filter }, { shape: [K, O] });
  const wt = callKernel(be, 'Transpose', { x: w2 }, { perm: [1, 0] });
  const wt3 = callKernel(be, 'Reshape', { x: wt }, { shape: [1, O, K] });
  const dy3 = callKernel(be, 'Reshape', { x: dy }, { shape: [1, M, O] });
  const cols = callKernel(be, 'BatchMatMul', { a: dy3, b: wt3 }, { transposeA: false, transposeB: false });
  for (const t of [w2, wt, wt3, dy3]) be.disposeData(t.dataId);
  const pointwise =
    g.filterHeight === 1 &&
    g.filterWidth === 1 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0;
  if (pointwise) {
    // A 1x1, stride-1 convolution's patch matrix is the image itself.
    const out = callKernel(be, 'Reshape', { x: cols }, { shape: [...a.inputShape] });
    be.disposeData(cols.dataId);
    return out;
  }
  const dx = be.makeOutput([...a.inputShape], 'float32');
  const dxView = be.typedArrayFromHeap(dx) as Float32Array;
  dxView.fill(0);
  col2imAdd(be.typedArrayFromHeap(cols) as Float32Array, g, dxView);
  be.disposeData(cols.dataId);
  return dx;
};

/**
 * dx of a stride-1 convolution is the full correlation of dy with the flipped filter: padding
 * KH-1-padTop above (and whatever below makes the height H), the same across. Null when the
 * geometry is not of that form (strided, dilated, or cropping more than the filter covers).
 */
function transposedAsConv(
  be: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ReturnType<typeof patchGeometry>,
): TensorInfo | null {
  if (g.strideHeight !== 1 || g.strideWidth !== 1 || g.dilationHeight !== 1 || g.dilationWidth !== 1)
    return null;
  const KH = g.filterHeight;
  const KW = g.filterWidth;
  const top = KH - 1 - g.padTop;
  const left = KW - 1 - g.padLeft;
  const bottom = g.inHeight - g.outHeight + KH - 1 - top;
  const right = g.inWidth - g.outWidth + KW - 1 - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
  if (KH === 1 && KW === 1 && top + bottom + left + right === 0) return null; // the GEMM path has no col2im here
  const flipped = be.makeOutput([KH, KW, g.outChannels, g.inChannels], 'float32');
  // Views after the allocation: growing the heap detaches earlier ones.
  flipFilter(
    be.typedArrayFromHeap(filter) as Float32Array,
    KH,
    KW,
    g.inChannels,
    g.outChannels,
    be.typedArrayFromHeap(flipped) as Float32Array,
  );
  const dx = callKernel(
    be,
    'Conv2D',
    { x: dy, filter: flipped },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    },
  );
  be.disposeData(flipped.dataId);
  return dx;
}

export const conv2dBackpropInputWasmConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInputWasm,
};

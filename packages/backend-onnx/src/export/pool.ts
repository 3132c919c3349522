/** maxPool2d → MaxPool, globalAvgPool → GlobalAveragePool. */
import { type MaxPool2dAttrs, windowOut } from '@siamese/core';
import { attr } from './context.js';
import type { Lowering } from './types.js';

/**
 * PyTorch's ceil mode drops a last window that would start in the right padding. onnxruntime 1.30
 * does too, but ONNX 1.12's shape inference does not (it gives 3x3 where PyTorch gives 2x2), so a
 * checked model would disagree with itself. Floor mode with the exact extra end padding gives
 * PyTorch's size everywhere (MaxPool ignores padded positions, as PyTorch's -inf padding does).
 */
function endPad(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  if (!ceil) return p;
  const out = windowOut(size, k, s, p, d, true);
  return Math.max(p, (out - 1) * s + d * (k - 1) + 1 - size - p);
}

export const maxPool2d: Lowering<MaxPool2dAttrs> = ({ ctx, inputs, inputTypes, outputs, attrs: a }) => {
  const [, , h, w] = inputTypes[0]!.shape as number[];
  const [k, s, p, d] = [a.kernel, a.stride, a.padding, a.dilation];
  const ends = [
    endPad(h!, k[0], s[0], p[0], d[0], a.ceilMode),
    endPad(w!, k[1], s[1], p[1], d[1], a.ceilMode),
  ];
  // onnxruntime rejects a pad as large as the kernel, which the end pad can reach only with dilation > 1
  // in ceil mode: then fall back to ONNX's own ceil mode (onnxruntime's output size is still PyTorch's).
  const explicit = ends[0]! < k[0] && ends[1]! < k[1];
  ctx.op(
    'MaxPool',
    [inputs[0]!],
    [
      attr.ints('kernel_shape', k),
      attr.ints('strides', s),
      attr.ints('pads', explicit ? [p[0], p[1], ends[0]!, ends[1]!] : [p[0], p[1], p[0], p[1]]),
      attr.ints('dilations', d),
      attr.int('ceil_mode', explicit ? 0 : 1),
    ],
    outputs[0],
  );
};

export const globalAvgPool: Lowering<Record<string, never>> = ({ ctx, inputs, outputs }) => {
  ctx.op('GlobalAveragePool', [inputs[0]!], [], outputs[0]);
};

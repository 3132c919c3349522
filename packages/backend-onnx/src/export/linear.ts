/** linear → Gemm (rank-2 x) or MatMul + Add (any other rank); dropout → Identity (eval mode). */
import type { DropoutAttrs, MatmulAttrs, Tensor } from '@siamese/core';
import { attr, type LoweringContext } from './context.js';
import type { Lowering } from './types.js';

export const linear: Lowering<Record<string, never>> = ({ ctx, inputs, inputTypes, outputs }) => {
  const [x, w, b] = inputs;
  if (inputTypes[0]!.shape.length === 2) {
    ctx.op('Gemm', b ? [x!, w!, b] : [x!, w!], [attr.int('transB', 1)], outputs[0]);
    return;
  }
  // MatMul has no transpose flag: a constant weight is transposed now, a computed one by a node.
  const wt = transposedConstant(ctx, w!) ?? ctx.op('Transpose', [w!], [attr.ints('perm', [1, 0])]);
  if (!b) {
    ctx.op('MatMul', [x!, wt], [], outputs[0]);
    return;
  }
  ctx.op('Add', [ctx.op('MatMul', [x!, wt]), b], [], outputs[0]);
};

function transposedConstant(ctx: LoweringContext, w: string): string | undefined {
  const t = ctx.tensorOf(w);
  if (t?.dtype !== 'float32') return undefined;
  const [rows, cols] = t.shape as [number, number];
  const src = t.data as Float32Array;
  const data = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = src[r * cols + c]!;
  const transposed: Tensor = { dtype: 'float32', shape: [cols, rows], data };
  return ctx.constant(`${w}.T`, transposed);
}

export const dropout: Lowering<DropoutAttrs> = ({ ctx, inputs, outputs }) => {
  ctx.op('Identity', [inputs[0]!], [], outputs[0]);
};

export const matmul: Lowering<MatmulAttrs> = ({ ctx, inputs, outputs, attrs: a }) => {
  ctx.op(
    'Gemm',
    [inputs[0]!, inputs[1]!],
    [attr.int('transA', a.transA ? 1 : 0), attr.int('transB', a.transB ? 1 : 0)],
    outputs[0],
  );
};

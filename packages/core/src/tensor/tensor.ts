/** A plain host tensor: dtype, static shape and a typed array in row-major order. */
import type { DType } from '../ir/types.js';

export interface DataTypes {
  float32: Float32Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type TensorData = DataTypes[DType];

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: DataTypes[D];
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocate<D extends DType>(dtype: D, shape: readonly number[]): Tensor<D> {
  const n = numel(shape);
  const data = {
    float32: () => new Float32Array(n),
    int64: () => new BigInt64Array(n),
    int32: () => new Int32Array(n),
    uint8: () => new Uint8Array(n),
    bool: () => new Uint8Array(n),
  }[dtype]() as DataTypes[D];
  return { dtype, shape: [...shape], data };
}

export function tensor(shape: readonly number[], data: ArrayLike<number> | Float32Array): Tensor<'float32'> {
  const n = numel(shape);
  if (data.length !== n)
    throw new Error(`tensor of shape [${shape.join(',')}] needs ${n} values, got ${data.length}`);
  return { dtype: 'float32', shape: [...shape], data: Float32Array.from(data) };
}

/** The part of tfjs-backend-wasm's BackendWasm that kernels written in JS use. */
import { type DataType, getKernel, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** A view into the wasm heap; invalidated when the heap grows (any later allocation). */
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
}

/** Runs another wasm kernel from inside a kernel (no tape, no engine bookkeeping). */
export function callKernel(
  backend: WasmBackendLike,
  name: string,
  inputs: Readonly<Record<string, TensorInfo>>,
  attrs: NamedAttrMap,
): TensorInfo {
  const k = getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel '${name}' is not registered`);
  const out = k.kernelFunc({ inputs: { ...inputs }, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm kernel '${name}' returned several outputs`);
  return out;
}

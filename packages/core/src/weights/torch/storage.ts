/**
 * From storage bytes to core tensors: decode a storage into core's element type (float16,
 * bfloat16 and float64 become float32), then copy out a tensor's strided view of it. torch
 * saves a view with its whole storage, so a tensor may be transposed, a slice, or overlap itself
 * (stride 0, or strides smaller than the sizes below them); every index is proven to lie inside
 * the storage before anything is copied.
 */
import type { DType } from '../../ir/types.js';
import type { TensorData } from '../../tensor/tensor.js';
import type { TensorRecord, TorchDType } from './globals.js';

/** The core dtype each torch dtype is read as; absent ones are refused. */
export const CORE_DTYPE: ReadonlyMap<TorchDType, DType> = new Map<TorchDType, DType>([
  ['float32', 'float32'],
  ['float16', 'float32'],
  ['bfloat16', 'float32'],
  ['float64', 'float32'],
  ['int64', 'int64'],
  ['int32', 'int32'],
  ['uint8', 'uint8'],
  ['bool', 'bool'],
]);

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A storage's little-endian bytes as core elements. Aligned float32/int data is a view, not a copy. */
export function decodeStorage(dtype: TorchDType, size: number, raw: Uint8Array, numel: number): TensorData {
  // Views need aligned, native-order bytes; torch aligns its records to 64 bytes, others may not.
  const bytes = HOST_LITTLE_ENDIAN && raw.byteOffset % size === 0 ? raw : swapped(new Uint8Array(raw), size);
  const { buffer, byteOffset } = bytes;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, numel);
    case 'float64':
      return Float32Array.from(new Float64Array(buffer, byteOffset, numel)); // rounds to nearest
    case 'float16':
      return halfToFloat(new Uint16Array(buffer, byteOffset, numel));
    case 'bfloat16': {
      // bfloat16 is the top half of a float32: shifting the bits is exact, NaN payloads included.
      const half = new Uint16Array(buffer, byteOffset, numel);
      const bits = new Uint32Array(numel);
      for (let i = 0; i < numel; i++) bits[i] = (half[i] as number) << 16;
      return new Float32Array(bits.buffer);
    }
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, numel);
    case 'int32':
      return new Int32Array(buffer, byteOffset, numel);
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, numel);
    case 'bool':
      return Uint8Array.from(new Uint8Array(buffer, byteOffset, numel), (b) => (b === 0 ? 0 : 1));
    default:
      throw new Error(`no core dtype for ${dtype}`); // callers check CORE_DTYPE first
  }
}

/** Exact float16 -> float32, bit by bit (subnormals, infinities and NaN payloads included). */
function halfToFloat(half: Uint16Array): Float32Array {
  const bits = new Uint32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i] as number;
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    let mant = h & 0x3ff;
    if (exp === 0x1f) {
      bits[i] = sign | 0x7f800000 | (mant << 13);
    } else if (exp !== 0) {
      bits[i] = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant === 0) {
      bits[i] = sign;
    } else {
      // Subnormal: shift the mantissa up until its leading 1 is implicit.
      let e = 113;
      while ((mant & 0x400) === 0) {
        mant <<= 1;
        e--;
      }
      bits[i] = sign | (e << 23) | ((mant & 0x3ff) << 13);
    }
  }
  return new Float32Array(bits.buffer);
}

/** On a big-endian host, reverses each element's bytes (in place on the copy given). */
function swapped(copy: Uint8Array, size: number): Uint8Array {
  if (!HOST_LITTLE_ENDIAN && size > 1) {
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  }
  return copy;
}

/**
 * Number of elements of a view, or a reason it is invalid: sizes and strides must be
 * non-negative integers, and the largest index it reaches must lie inside the storage.
 */
export function checkView(t: TensorRecord): string | number {
  const { size, stride, offset } = t;
  const storageNumel = t.storage.numel;
  if (size.length !== stride.length) {
    return `has ${size.length} sizes but ${stride.length} strides`;
  }
  if (size.some((d) => d < 0) || stride.some((s) => s < 0) || offset < 0) {
    return `has a negative size, stride or offset (size ${fmt(size)}, stride ${fmt(stride)}, offset ${offset})`;
  }
  let n = 1;
  let last = offset;
  for (let i = 0; i < size.length; i++) {
    n *= size[i] as number;
    last += ((size[i] as number) - 1) * (stride[i] as number);
  }
  if (n === 0) {
    return offset <= storageNumel ? 0 : `starts at ${offset}, past its ${storageNumel}-element storage`;
  }
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(last)) {
    return `has shape ${fmt(size)} and stride ${fmt(stride)}, too large to index`;
  }
  if (last >= storageNumel) {
    return `reaches element ${last} of its ${storageNumel}-element storage (size ${fmt(size)}, stride ${fmt(stride)}, offset ${offset})`;
  }
  return n;
}

/** Elements that can be read and written by index, whatever the typed array. */
interface Elements {
  readonly length: number;
  [i: number]: number | bigint;
  set(from: Elements, at: number): void;
  subarray(begin: number, end: number): Elements;
}

/** Copies a checked view of `src` into `out` (numel elements, row-major). */
export function gather(src: TensorData, t: TensorRecord, out: TensorData): void {
  const s = src as unknown as Elements;
  const o = out as unknown as Elements;
  const n = o.length;
  if (n === 0) return;
  // Drop size-1 dims and merge dims that are contiguous with the one inside them.
  const size: number[] = [];
  const stride: number[] = [];
  for (let i = 0; i < t.size.length; i++) {
    const d = t.size[i] as number;
    const st = t.stride[i] as number;
    if (d === 1) continue;
    const k = size.length - 1;
    if (k >= 0 && stride[k] === st * d) {
      size[k] = (size[k] as number) * d;
      stride[k] = st;
    } else {
      size.push(d);
      stride.push(st);
    }
  }
  if (size.length === 0) {
    o[0] = s[t.offset] as number;
    return;
  }
  const dims = size.length;
  const inner = size[dims - 1] as number;
  const step = stride[dims - 1] as number;
  const index = new Array<number>(dims - 1).fill(0);
  let base = t.offset;
  for (let at = 0; at < n; at += inner) {
    if (step === 1 && inner >= 64) {
      o.set(s.subarray(base, base + inner), at);
    } else {
      for (let k = 0, j = base; k < inner; k++, j += step) o[at + k] = s[j] as number;
    }
    // Odometer over the outer dims.
    for (let d = dims - 2; d >= 0; d--) {
      base += stride[d] as number;
      const i = (index[d] as number) + 1;
      index[d] = i;
      if (i < (size[d] as number)) break;
      base -= (stride[d] as number) * (size[d] as number);
      index[d] = 0;
    }
  }
}

function fmt(xs: readonly number[]): string {
  return `[${xs.join(',')}]`;
}

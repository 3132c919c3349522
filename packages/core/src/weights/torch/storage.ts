/**
 * From storage bytes to core tensors: copy a tensor's strided view out of its storage's bytes,
 * converting each element read to core's element type on the way (float16, bfloat16 and float64
 * become float32; bool bytes become 0 or 1). torch saves a view with its whole storage, so a
 * tensor may be transposed, a slice, or overlap itself (stride 0, or strides smaller than the
 * sizes below them); every index is proven to lie inside the storage before anything is copied.
 * Only the elements a view reads are converted: a storage is never decoded as a whole, so the
 * memory used is the tensors returned, plus at most one byte copy of a storage whose record is
 * not aligned for its element type (torch aligns records to 64 bytes; other writers may not).
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

/** A storage's elements as stored: float16 and bfloat16 as their 16-bit patterns. */
export type Stored = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/**
 * A storage's little-endian bytes as a typed array of its own element type (see CORE_DTYPE for
 * the dtypes read): a view of `raw` when it is aligned, else of a byte copy (byte-swapped on a
 * big-endian host). Nothing is converted here; `gather` converts what a view reads.
 */
export function storageElements(dtype: TorchDType, size: number, raw: Uint8Array, numel: number): Stored {
  const aligned = HOST_LITTLE_ENDIAN && raw.byteOffset % size === 0;
  const { buffer, byteOffset } = aligned ? raw : swapped(new Uint8Array(raw), size);
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, numel);
    case 'float64':
      return new Float64Array(buffer, byteOffset, numel);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, byteOffset, numel);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, numel);
    case 'int32':
      return new Int32Array(buffer, byteOffset, numel);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, numel);
    default:
      throw new Error(`no core dtype for ${dtype}`); // callers check CORE_DTYPE first
  }
}

/** Exact float16 -> float32 bits (subnormals, infinities and NaN payloads included). */
export function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: shift the mantissa up until its leading 1 is implicit.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
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

/**
 * Copies `count` elements, `step` apart from `from` in the storage, to `at` in the output,
 * converting them to the output's type.
 */
type Run = (at: number, from: number, count: number, step: number) => void;

/** The conversion for storages whose elements are not the output's (float64 needs none: assignment rounds). */
function conversion(dtype: TorchDType, src: Stored, out: TensorData): Run | undefined {
  if (dtype === 'float16' || dtype === 'bfloat16') {
    // Written as bits, so NaN payloads survive.
    const h = src as Uint16Array;
    const o = new Uint32Array(out.buffer, out.byteOffset, out.length);
    return dtype === 'float16'
      ? (at, from, count, step) => {
          for (let k = 0, j = from; k < count; k++, j += step) o[at + k] = halfToFloatBits(h[j] as number);
        }
      : // bfloat16 is the top half of a float32: shifting the bits is exact.
        (at, from, count, step) => {
          for (let k = 0, j = from; k < count; k++, j += step) o[at + k] = (h[j] as number) << 16;
        };
  }
  if (dtype === 'bool') {
    const b = src as Uint8Array;
    const o = out as Uint8Array;
    return (at, from, count, step) => {
      for (let k = 0, j = from; k < count; k++, j += step) o[at + k] = b[j] === 0 ? 0 : 1;
    };
  }
  return undefined;
}

/** Copies a checked view of `src` into `out` (numel elements, row-major), converting each element. */
export function gather(src: Stored, t: TensorRecord, out: TensorData): void {
  const n = out.length;
  if (n === 0) return;
  const convert = conversion(t.storage.type.dtype, src, out);
  // Otherwise the same element type, or float64 into float32 (assignment rounds to nearest).
  const s = src as unknown as Elements;
  const o = out as unknown as Elements;
  const same = src.constructor === out.constructor;
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
    if (convert !== undefined) convert(0, t.offset, 1, 1);
    else o[0] = s[t.offset] as number;
    return;
  }
  const dims = size.length;
  const inner = size[dims - 1] as number;
  const step = stride[dims - 1] as number;
  const index = new Array<number>(dims - 1).fill(0);
  let base = t.offset;
  for (let at = 0; at < n; at += inner) {
    if (convert !== undefined) {
      convert(at, base, inner, step);
    } else if (same && step === 1 && inner >= 64) {
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

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian u64 header length N,
 * N bytes of UTF-8 JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__ }`,
 * then the little-endian data; offsets are relative to the start of the data. Pure functions on
 * Uint8Array. The decoder trusts nothing in the file: every field is checked before any tensor
 * is allocated, so it never allocates more than the input's size.
 */
import type { DType } from '../ir/types.js';
import { DTYPE_BYTES } from '../ir/types.js';
import type { DataTypes, Tensor } from '../tensor/tensor.js';
import { weightsError } from './errors.js';

export type SafetensorsDType = 'F32' | 'I64' | 'I32' | 'U8' | 'BOOL';

const TO_FILE: Readonly<Record<DType, SafetensorsDType>> = {
  float32: 'F32',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

// A Map, not an object: a file's dtype 'constructor' or '__proto__' must not hit Object.prototype.
const FROM_FILE: ReadonlyMap<string, DType> = new Map(
  (Object.entries(TO_FILE) as [DType, SafetensorsDType][]).map(([d, f]) => [f, d]),
);

/** Valid safetensors dtypes the IR has no element type for: named as unsupported, not unknown. */
const UNSUPPORTED = new Set(['F64', 'F16', 'BF16', 'I8', 'I16', 'U16', 'U32', 'U64', 'C64']);
const UNSUPPORTED_PATTERN = /^F[468]_|^F4$|^E8M0$/; // the float8/6/4 family

/** The reference implementation's cap: a larger header is hostile or corrupt. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export interface DecodeOptions {
  /** A file name to put in error messages. */
  readonly source?: string;
  /**
   * true (default): every tensor owns a fresh buffer. false: tensors whose data is aligned are
   * views into `bytes` (no second copy of a large file; they alias the input), the rest are copies.
   */
  readonly copy?: boolean;
}

export interface Safetensors {
  /** Tensors in the order their data appears in the file. */
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
}

/** Encodes tensors in the order given; the data starts 8-byte aligned (header padded with spaces). */
export function encodeSafetensors(
  tensors: Map<string, Tensor> | Iterable<readonly [string, Tensor]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const parts: string[] = [];
  const blobs: Uint8Array[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === METADATA_KEY) {
      throw weightsError(`a tensor cannot be named '${METADATA_KEY}'`, undefined, name);
    }
    if (seen.has(name)) throw weightsError(`tensor ${quote(name)} is given twice`, undefined, name);
    seen.add(name);
    const bytes = tensorBytes(name, t);
    const info = { dtype: TO_FILE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    // Built as text, not as an object: keeps the given order even for integer-like names.
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    blobs.push(bytes);
    offset += bytes.length;
  }
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw weightsError(`metadata ${quote(k)} must be a string, got ${typeof v}`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** A tensor's data as little-endian bytes, after checking it is what it claims to be. */
function tensorBytes(name: string, t: Tensor): Uint8Array {
  if (!Object.hasOwn(TO_FILE, t.dtype)) {
    throw weightsError(`tensor ${quote(name)} has unknown dtype ${quote(String(t.dtype))}`, undefined, name);
  }
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw weightsError(`tensor ${quote(name)} has an invalid shape ${brief(t.shape)}`, undefined, name);
  }
  const Ctor = CTORS[t.dtype];
  if (!(t.data instanceof Ctor)) {
    throw weightsError(
      `tensor ${quote(name)} is ${t.dtype} but its data is a ${t.data.constructor.name}`,
      undefined,
      name,
    );
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) {
    throw weightsError(
      `tensor ${quote(name)} has ${t.data.length} values but shape ${fmtShape(t.shape)} needs ${n}`,
      undefined,
      name,
    );
  }
  const view = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return HOST_LITTLE_ENDIAN ? view : byteSwap(view.slice(), DTYPE_BYTES[t.dtype]);
}

/** Decodes and validates a safetensors file; every problem is a WeightsError naming what is wrong. */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): Safetensors {
  const src = opts.source;
  const fail = (detail: string, tensor?: string): never => {
    throw weightsError(detail, src, tensor);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    fail(
      `header length ${declared} is larger than the ${bytes.length - 8} bytes that follow it (truncated file?)`,
    );
  }
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerLength = Number(declared);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  const header = parseHeader(bytes.subarray(8, dataStart), fail);
  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(info, fail);
    else entries.push(parseEntry(name, info, dataLength, fail));
  }
  checkLayout(entries, dataLength, fail);

  // Only now, with every byte length proven to lie inside the input, allocate.
  const copy = opts.copy ?? true;
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const data = readData(e.dtype, bytes, dataStart + e.begin, e.end - e.begin, copy);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data } as Tensor);
  }
  return { tensors, metadata };
}

type Fail = (detail: string, tensor?: string) => never;

interface Entry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

function parseHeader(raw: Uint8Array, fail: Fail): Record<string, unknown> {
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    fail('header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${oneLine(e instanceof Error ? e.message : String(e))})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    fail(
      `header is not a JSON object (got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed})`,
    );
  }
  return parsed as Record<string, unknown>;
}

function parseMetadata(info: unknown, fail: Fail): Record<string, string> {
  if (info === null) return {};
  if (typeof info !== 'object' || Array.isArray(info)) {
    fail(`${METADATA_KEY} must be an object of strings, got ${brief(info)}`);
  }
  const pairs = Object.entries(info as Record<string, unknown>);
  for (const [k, v] of pairs) {
    if (typeof v !== 'string') fail(`${METADATA_KEY} value ${quote(k)} must be a string, got ${brief(v)}`);
  }
  // fromEntries defines own properties, so a '__proto__' key stays data, not a prototype.
  return Object.fromEntries(pairs) as Record<string, string>;
}

function parseEntry(name: string, info: unknown, dataLength: number, fail: Fail): Entry {
  const t = quote(name);
  const bad = (what: string): never => fail(`tensor ${t} ${what}`, name);
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    bad(`has a malformed entry ${brief(info)} (expected {dtype, shape, data_offsets})`);
  }
  const { dtype: fileDType, shape, data_offsets: offsets } = info as Record<string, unknown>;

  if (typeof fileDType !== 'string') bad(`has a missing or non-string dtype ${brief(fileDType)}`);
  const ftype = fileDType as string;
  const dtype = FROM_FILE.get(ftype);
  if (dtype === undefined) {
    const supported = [...FROM_FILE.keys()].join(', ');
    if (UNSUPPORTED.has(ftype) || UNSUPPORTED_PATTERN.test(ftype)) {
      bad(`has unsupported dtype ${quote(ftype)} (supported: ${supported})`);
    }
    bad(`has unknown dtype ${quote(ftype)} (supported: ${supported})`);
  }
  const dt = dtype as DType;

  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad(`has an invalid shape ${brief(shape)} (expected an array of non-negative integers)`);
  }
  const dims = [...(shape as number[])];
  const size = DTYPE_BYTES[dt];
  // A zero anywhere makes the product 0 even if the other dims would overflow it.
  let numel = dims.includes(0) ? 0 : 1;
  for (const d of dims) {
    if (numel === 0) break;
    numel *= d;
    if (!Number.isSafeInteger(numel * size)) {
      bad(`declares shape ${fmtShape(dims)} whose byte size overflows`);
    }
  }
  const byteLength = numel * size;

  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    (offsets[0] as number) > (offsets[1] as number)
  ) {
    bad(`has invalid data_offsets ${brief(offsets)} (expected [begin, end] with 0 <= begin <= end)`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) bad(`has data_offsets [${begin},${end}] beyond the ${dataLength}-byte data section`);
  if (end - begin !== byteLength) {
    bad(
      `declares shape ${fmtShape(dims)} (${byteLength} bytes as ${ftype}) but data_offsets span ${end - begin} bytes`,
    );
  }
  return { name, dtype: dt, shape: dims, begin, end };
}

/** The spec requires the tensors to tile the data section exactly: no overlap, no hole. */
function checkLayout(entries: Entry[], dataLength: number, fail: Fail): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of entries) {
    if (e.begin < pos && prev !== undefined) {
      fail(
        `tensors ${quote(prev.name)} and ${quote(e.name)} overlap (data_offsets [${prev.begin},${prev.end}] and [${e.begin},${e.end}])`,
        e.name,
      );
    }
    if (e.begin > pos) {
      fail(
        `bytes ${pos}..${e.begin} of the data section belong to no tensor (a hole before ${quote(e.name)})`,
        e.name,
      );
    }
    pos = e.end;
    prev = e;
  }
  if (pos < dataLength) {
    fail(`the last ${dataLength - pos} bytes of the ${dataLength}-byte data section belong to no tensor`);
  }
}

const CTORS = {
  float32: Float32Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

function readData(
  dtype: DType,
  bytes: Uint8Array,
  at: number,
  byteLength: number,
  copy: boolean,
): DataTypes[DType] {
  const size = DTYPE_BYTES[dtype];
  const count = byteLength / size;
  if (!copy && HOST_LITTLE_ENDIAN && (bytes.byteOffset + at) % size === 0) {
    return view(dtype, bytes.buffer, bytes.byteOffset + at, count);
  }
  // A fresh buffer starting at 0 is aligned for any element size. (Not bytes.slice(): on a Node
  // Buffer that is a view into the shared pool, not a copy.)
  const own = new Uint8Array(bytes.subarray(at, at + byteLength));
  if (!HOST_LITTLE_ENDIAN) byteSwap(own, size);
  return view(dtype, own.buffer, 0, count);
}

function view(dtype: DType, buffer: ArrayBufferLike, offset: number, count: number): DataTypes[DType] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, offset, count);
    case 'int64':
      return new BigInt64Array(buffer, offset, count);
    case 'int32':
      return new Int32Array(buffer, offset, count);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, offset, count);
  }
}

/** Reverses each `size`-byte element in place (only on big-endian hosts). */
function byteSwap(b: Uint8Array, size: number): Uint8Array {
  if (size > 1) for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
  return b;
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** A name as it appears in messages: quoted, on one line, and not a megabyte long. */
export function quote(name: string): string {
  const short = name.length > 200 ? `${name.slice(0, 200)}…` : name;
  return /^[\x20-\x7e]*$/.test(short) && !short.includes("'")
    ? `'${short}'`
    : escapeSeparators(JSON.stringify(short));
}

/** A file value in a message: JSON, cut short. */
function brief(v: unknown): string {
  const s = v === undefined ? 'undefined' : escapeSeparators(JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/** Engine messages may quote the file: control characters and line breaks become spaces. */
function oneLine(s: string): string {
  const printable = Array.from(s, (c) =>
    c < ' ' || c === '\x7f' || c === '\u2028' || c === '\u2029' ? ' ' : c,
  );
  const flat = printable.join('').replace(/\s+/g, ' ');
  return flat.length > 160 ? `${flat.slice(0, 160)}…` : flat;
}

/** JSON.stringify leaves U+2028/U+2029 raw; they would break a one-line message in some viewers. */
function escapeSeparators(s: string): string {
  return s.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

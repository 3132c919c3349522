/**
 * A minimal ZIP reader for the archives torch.save writes. Our own rather than a library: core has
 * no runtime dependencies, and torch only ever writes STORED (uncompressed) entries, so reading
 * one is just finding its bytes. torch's writer (miniz) always adds ZIP64 end records, sets the
 * data-descriptor flag (zero sizes in the local headers) and pads local headers so the data is
 * 64-byte aligned; so sizes come from the central directory and data starts after each local
 * header's own name and extra field. Every offset and size is checked against the input, and
 * no two entries (local header through data) may overlap each other or the central directory, as
 * torch never writes them: so the entries' data together is at most the file's size, and reading
 * (and CRC-checking) every entry once touches each byte of the file at most once.
 */
import { weightsError } from '../errors.js';
import { quote } from '../safetensors.js';

export interface ZipEntry {
  readonly name: string;
  /** Where the entry's data starts in the archive. */
  readonly offset: number;
  /** Its length; for a compressed entry (never read) the uncompressed length. */
  readonly size: number;
  readonly crc32: number;
  /** 0 = stored; anything else is refused when read. */
  readonly method: number;
  readonly encrypted: boolean;
}

export interface ZipArchive {
  /** Entries in central-directory order. */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** An entry's bytes (a view into the archive), after checking its CRC-32. */
  read(name: string): Uint8Array;
}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const END64 = 0x06064b50;
const END64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/** True when the bytes start like a ZIP archive (a local header, or the end record of an empty one). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

export function readZip(bytes: Uint8Array, source?: string): ZipArchive {
  const fail = (detail: string): never => {
    throw weightsError(`zip archive: ${detail}`, source);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  const u64 = (at: number, what: string): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(bytes.length)) fail(`${what} ${v} lies beyond the ${bytes.length}-byte file`);
    return Number(v);
  };
  /** Throws unless [at, at + length) lies inside the file. */
  const need = (at: number, length: number, what: string): void => {
    if (at < 0 || at + length > bytes.length) {
      fail(`${what} at byte ${at} runs past the end of the ${bytes.length}-byte file (truncated?)`);
    }
  };

  const end = findEnd(bytes, view);
  if (end < 0) fail('no end-of-central-directory record (truncated, or not a zip archive)');
  if (u16(end + 4) !== 0 || u16(end + 6) !== 0) fail('spans several disks, which torch never writes');
  let count = u16(end + 10);
  let dirSize = u32(end + 12);
  let dirOffset = u32(end + 16);

  // torch writes the ZIP64 records always; they are authoritative where present.
  const locator = end - 20;
  if (locator >= 0 && u32(locator) === END64_LOCATOR) {
    const at = u64(locator + 8, 'ZIP64 end record offset');
    need(at, 56, 'ZIP64 end record');
    if (u32(at) !== END64) fail(`no ZIP64 end record at byte ${at}, where the locator points`);
    if (u32(at + 16) !== 0 || u32(at + 20) !== 0) fail('spans several disks, which torch never writes');
    count = u64(at + 32, 'entry count');
    dirSize = u64(at + 40, 'central directory size');
    dirOffset = u64(at + 48, 'central directory offset');
  } else if (count === U16_MAX || dirSize === U32_MAX || dirOffset === U32_MAX) {
    fail('needs ZIP64 end records but has none');
  }
  need(dirOffset, dirSize, 'central directory');
  if (count * 46 > dirSize) fail(`claims ${count} entries, more than its ${dirSize}-byte directory can hold`);

  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const entries = new Map<string, ZipEntry>();
  /** Each entry's bytes, from its local header to the end of its data. */
  const spans: { name: string; start: number; end: number }[] = [];
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    need(at, 46, `central directory entry ${i}`);
    if (u32(at) !== CENTRAL) fail(`central directory entry ${i} at byte ${at} has a bad signature`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc32 = u32(at + 16);
    let packed = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let disk = u16(at + 34);
    let local = u32(at + 42);
    need(at + 46, nameLength + extraLength + commentLength, `central directory entry ${i}`);
    let name = '';
    try {
      name = utf8.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    } catch {
      fail(`entry ${i} has a name that is not UTF-8`);
    }
    const what = `entry ${quote(name)}`;

    // ZIP64 extra field: 8-byte values for exactly the fields saturated above, in this order.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = u16(extra);
      const length = u16(extra + 2);
      const body = extra + 4;
      if (body + length > extraEnd) fail(`${what} has a malformed extra field`);
      if (id === ZIP64_EXTRA) {
        let p = body;
        const next = (label: string): number => {
          if (p + 8 > body + length) fail(`${what} has a ZIP64 field too short for its ${label}`);
          const v = u64(p, `${what} ${label}`);
          p += 8;
          return v;
        };
        if (size === U32_MAX) size = next('size');
        if (packed === U32_MAX) packed = next('compressed size');
        if (local === U32_MAX) local = next('header offset');
        if (disk === U16_MAX)
          disk = p + 4 <= body + length ? u32(p) : fail(`${what} has a short ZIP64 field`);
      }
      extra = body + length;
    }
    if (disk !== 0) fail(`${what} is on another disk`);
    if (method === 0 && packed !== size)
      fail(`${what} is stored but its sizes differ (${packed} vs ${size})`);

    need(local, 30, `local header of ${what}`);
    if (u32(local) !== LOCAL) fail(`${what}: no local header at byte ${local}`);
    if (u16(local + 8) !== method) fail(`${what}: local and central headers disagree on the method`);
    const localName = local + 30;
    const offset = localName + u16(local + 26) + u16(local + 28);
    need(localName, u16(local + 26), `local header of ${what}`);
    if (!sameBytes(bytes, localName, u16(local + 26), at + 46, nameLength)) {
      fail(`${what}: the local header names a different file`);
    }
    need(offset, packed, `data of ${what}`);
    if (entries.has(name)) fail(`${what} appears twice`);
    entries.set(name, { name, offset, size, crc32, method, encrypted: (flags & 0x41) !== 0 });
    spans.push({ name, start: local, end: offset + packed });
    at += 46 + nameLength + extraLength + commentLength;
  }

  // Overlapping entries would let K entries each cover most of the file (K times the work and,
  // once decoded, the memory); torch writes them one after another, so refuse any overlap.
  spans.sort((a, b) => a.start - b.start);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i] as (typeof spans)[number];
    const next = spans[i + 1];
    if (next !== undefined && next.start < s.end) {
      fail(
        `entries ${quote(s.name)} (bytes ${s.start}-${s.end}) and ${quote(next.name)} (from byte ${next.start}) overlap, which torch never writes`,
      );
    }
    if (s.start < dirOffset + dirSize && dirOffset < s.end) {
      fail(
        `entry ${quote(s.name)} (bytes ${s.start}-${s.end}) overlaps the central directory (bytes ${dirOffset}-${dirOffset + dirSize}), which torch never writes`,
      );
    }
  }

  return {
    entries,
    read(name: string): Uint8Array {
      const e = entries.get(name);
      if (e === undefined) fail(`has no entry ${quote(name)}`);
      const { offset, size, crc32: expected, method, encrypted } = e as ZipEntry;
      // Listed, but refused when read: a TorchScript archive (deflated code/) must still be named.
      if (encrypted) fail(`entry ${quote(name)} is encrypted`);
      if (method !== 0) {
        fail(`entry ${quote(name)} is compressed (method ${method}); torch.save writes stored entries only`);
      }
      const data = bytes.subarray(offset, offset + size);
      if (crc32(data) !== expected) fail(`entry ${quote(name)} is damaged (CRC-32 mismatch)`);
      return data;
    },
  };
}

/** The end record sits in the last 22 + 65535 bytes (after it only its comment): search backwards. */
function findEnd(bytes: Uint8Array, view: DataView): number {
  const lowest = Math.max(0, bytes.length - 22 - U16_MAX);
  for (let at = bytes.length - 22; at >= lowest; at--) {
    if (view.getUint32(at, true) === END && at + 22 + view.getUint16(at + 20, true) === bytes.length) {
      return at;
    }
  }
  return -1;
}

function sameBytes(b: Uint8Array, a: number, aLength: number, c: number, cLength: number): boolean {
  if (aLength !== cLength) return false;
  for (let i = 0; i < aLength; i++) if (b[a + i] !== b[c + i]) return false;
  return true;
}

let table: Uint32Array | undefined;

/** CRC-32 (IEEE, reflected), as ZIP uses. */
export function crc32(data: Uint8Array): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  const t = table;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = (t[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Hostile and damaged checkpoints: pickles that try to run code are refused by the name of what
 * they import; broken archives, storages and views are WeightsErrors naming the file, never a
 * crash or a hang; and what a small file can make the reader allocate is bounded (overlapping
 * zip entries are refused, tensors may hold at most the file's size plus MAX_EXPANSION elements,
 * the unpickler's calls at most the pickle's length plus MAX_CALL_ITEMS argument items). The
 * archives are built here, with a tiny ZIP writer and pickle assembler (below), so nothing
 * hostile is stored in the repository.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../../nn/random.js';
import { WeightsError } from '../errors.js';
import { MAX_EXPANSION, readTorchCheckpoint } from './checkpoint.js';
import {
  ALLOWED_GLOBALS,
  codecsEncode,
  orderedDict,
  pyBytearray,
  pySet,
  rebuildParameter,
  rebuildParameterWithState,
  rebuildQTensor,
  rebuildTensorV2,
  Storage,
  StorageType,
  summarizeGlobals,
  TensorRecord,
  TorchConstant,
  torchDevice,
  torchSize,
} from './globals.js';
import { MAX_CALL_ITEMS, PickleError, PyCallable, type PyValue, unpickle } from './pickle.js';
import { crc32, readZip } from './zip.js';

// ---- A ZIP writer: stored entries, optionally with ZIP64 records as torch writes them. ----

interface ZipOptions {
  readonly zip64?: boolean;
  readonly method?: number;
  readonly flags?: number;
}

function makeZip(files: readonly (readonly [string, Uint8Array])[], opts: ZipOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const n = new TextEncoder().encode(name);
    const local = new Uint8Array(30 + n.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint16(6, opts.flags ?? 0, true);
    l.setUint16(8, opts.method ?? 0, true);
    l.setUint32(14, crc32(data), true);
    l.setUint32(18, data.length, true);
    l.setUint32(22, data.length, true);
    l.setUint16(26, n.length, true);
    local.set(n, 30);
    const extra = opts.zip64 ? 28 : 0;
    const c = new Uint8Array(46 + n.length + extra);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, 45, true);
    cv.setUint16(8, opts.flags ?? 0, true);
    cv.setUint16(10, opts.method ?? 0, true);
    cv.setUint32(16, crc32(data), true);
    const big = opts.zip64 ? 0xffffffff : undefined;
    cv.setUint32(20, big ?? data.length, true);
    cv.setUint32(24, big ?? data.length, true);
    cv.setUint16(28, n.length, true);
    cv.setUint16(30, extra, true);
    cv.setUint32(42, big ?? offset, true);
    c.set(n, 46);
    if (opts.zip64) {
      const at = 46 + n.length;
      cv.setUint16(at, 1, true);
      cv.setUint16(at + 2, 24, true);
      cv.setBigUint64(at + 4, BigInt(data.length), true);
      cv.setBigUint64(at + 12, BigInt(data.length), true);
      cv.setBigUint64(at + 20, BigInt(offset), true);
    }
    parts.push(local, data);
    central.push(c);
    offset += local.length + data.length;
  }
  const dirOffset = offset;
  const dirSize = central.reduce((a, c) => a + c.length, 0);
  parts.push(...central);
  if (opts.zip64) {
    const rec = new DataView(new ArrayBuffer(56 + 20));
    rec.setUint32(0, 0x06064b50, true);
    rec.setBigUint64(4, 44n, true);
    rec.setBigUint64(24, BigInt(files.length), true);
    rec.setBigUint64(32, BigInt(files.length), true);
    rec.setBigUint64(40, BigInt(dirSize), true);
    rec.setBigUint64(48, BigInt(dirOffset), true);
    rec.setUint32(56, 0x07064b50, true);
    rec.setBigUint64(64, BigInt(dirOffset + dirSize), true);
    rec.setUint32(72, 1, true);
    parts.push(new Uint8Array(rec.buffer));
  }
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, opts.zip64 ? 0xffff : files.length, true);
  end.setUint16(10, opts.zip64 ? 0xffff : files.length, true);
  end.setUint32(12, opts.zip64 ? 0xffffffff : dirSize, true);
  end.setUint32(16, opts.zip64 ? 0xffffffff : dirOffset, true);
  parts.push(new Uint8Array(end.buffer));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- A pickle assembler, and torch-shaped pickles and archives. ----

class Pickle {
  private readonly bytes: number[] = [];
  op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  text(s: string): this {
    return this.op(...new TextEncoder().encode(s));
  }
  proto(v: number): this {
    return this.op(0x80, v);
  }
  global(module: string, name: string): this {
    return this.op(0x63).text(`${module}\n${name}\n`);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.op(0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b);
  }
  int(n: number): this {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    if (n === (n | 0)) {
      v.setInt32(0, n, true);
      return this.op(0x4a, ...b.subarray(0, 4)); // BININT
    }
    v.setBigInt64(0, BigInt(n), true);
    return this.op(0x8a, 8, ...b); // LONG1
  }
  ints(xs: readonly number[]): this {
    this.mark();
    for (const x of xs) this.int(x);
    return this.op(0x74);
  }
  mark(): this {
    return this.op(0x28);
  }
  tuple(): this {
    return this.op(0x74);
  }
  reduce(): this {
    return this.op(0x52);
  }
  stop(): Uint8Array {
    return new Uint8Array([...this.bytes, 0x2e]);
  }
  /** _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict()) */
  tensor(
    key: string,
    numel: number,
    offset: number,
    size: number[],
    stride: number[],
    type = 'FloatStorage',
  ): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', type).str(key).str('cpu').int(numel).tuple().op(0x51);
    this.int(offset).ints(size).ints(stride).op(0x89);
    return this.global('collections', 'OrderedDict').op(0x29).reduce().tuple().reduce();
  }
  /** A dict of name -> value, each value written by its callback. */
  dict(entries: readonly (readonly [string, (p: this) => void])[]): this {
    this.op(0x7d).mark();
    for (const [name, write] of entries) {
      this.str(name);
      write(this);
    }
    return this.op(0x75);
  }
}

const f32 = (...xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);

/** A torch.save-shaped archive: archive/data.pkl, archive/data/<key>, archive/version. */
function archive(
  pkl: Uint8Array,
  storages: Record<string, Uint8Array> = {},
  opts: ZipOptions = {},
): Uint8Array {
  return makeZip(
    [
      ['archive/data.pkl', pkl],
      ...Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v] as const),
      ['archive/version', new TextEncoder().encode('3\n')],
    ],
    opts,
  );
}

/** A good state_dict: {'w': 2x2 float32 tensor}. */
const goodPickle = (): Uint8Array =>
  new Pickle()
    .proto(2)
    .dict([['w', (p) => p.tensor('0', 4, 0, [2, 2], [2, 1])]])
    .stop();
const good = (): Uint8Array => archive(goodPickle(), { '0': f32(1, 2, 3, 4) });

/**
 * The quadratic attack on a reader that lets entries overlap: `count` float16 storages whose data
 * each runs from just after its own local header to the end of one shared blob, so each covers
 * almost the whole file, and a state_dict of one-element tensors, one per storage. The local
 * headers come first, then the blob, then data.pkl and the central directory.
 */
function overlappingArchive(count: number, blob: number): Uint8Array {
  const enc = new TextEncoder();
  const names = Array.from({ length: count }, (_, k) => enc.encode(`archive/data/${k}`));
  const headers = names.map((n) => 30 + n.length + ((30 + n.length) % 2)); // even: sizes stay even
  const locals: number[] = [];
  let at = 0;
  for (const h of headers) {
    locals.push(at);
    at += h;
  }
  const blobEnd = at + blob;
  const start = (k: number): number => (locals[k] as number) + (headers[k] as number);
  const pkl = new Pickle()
    .proto(2)
    .dict(
      names.map((_, k) => [
        `t${k}`,
        (p) => p.tensor(`${k}`, (blobEnd - start(k)) / 2, 0, [1], [1], 'HalfStorage'),
      ]),
    )
    .stop();
  const pklName = enc.encode('archive/data.pkl');
  const dirOffset = blobEnd + 30 + pklName.length + pkl.length;
  const dirSize = (count + 1) * 46 + names.reduce((a, n) => a + n.length, 0) + pklName.length;
  const out = new Uint8Array(dirOffset + dirSize + 22);
  const v = new DataView(out.buffer);
  const local = (o: number, name: Uint8Array, extra: number): void => {
    v.setUint32(o, 0x04034b50, true);
    v.setUint16(o + 4, 20, true);
    v.setUint16(o + 26, name.length, true);
    v.setUint16(o + 28, extra, true);
    out.set(name, o + 30);
  };
  for (const [k, n] of names.entries()) local(locals[k] as number, n, (headers[k] as number) - 30 - n.length);
  out.fill(0x3c, at, blobEnd); // float16 1.0 is 0x3c00: any bytes would do
  local(blobEnd, pklName, 0);
  out.set(pkl, blobEnd + 30 + pklName.length);
  // Valid CRCs, as an attacker would write: entry k's data is header k+1 and all after it, so
  // chain the CRCs from the last entry back (CRC-32 over 400 MB would take seconds).
  const crcs: number[] = [];
  let suffix = crc32(out.subarray(start(count - 1), blobEnd));
  crcs[count - 1] = suffix;
  for (let k = count - 2; k >= 0; k--) {
    suffix = crc32Combine(crc32(out.subarray(start(k), start(k + 1))), suffix, blobEnd - start(k + 1));
    crcs[k] = suffix;
  }
  let c = dirOffset;
  const central = (name: Uint8Array, header: number, from: number, size: number, crc?: number): void => {
    v.setUint32(c, 0x02014b50, true);
    v.setUint16(c + 4, 45, true);
    v.setUint16(c + 6, 20, true);
    v.setUint32(c + 16, crc ?? crc32(out.subarray(from, from + size)), true);
    v.setUint32(c + 20, size, true);
    v.setUint32(c + 24, size, true);
    v.setUint16(c + 28, name.length, true);
    v.setUint32(c + 42, header, true);
    out.set(name, c + 46);
    c += 46 + name.length;
  };
  central(pklName, blobEnd, blobEnd + 30 + pklName.length, pkl.length);
  for (const [k, n] of names.entries())
    central(n, locals[k] as number, start(k), blobEnd - start(k), crcs[k]);
  v.setUint32(c, 0x06054b50, true);
  v.setUint16(c + 8, count + 1, true);
  v.setUint16(c + 10, count + 1, true);
  v.setUint32(c + 12, dirSize, true);
  v.setUint32(c + 16, dirOffset, true);
  return out;
}

/** CRC-32 of A followed by B, from the CRCs of A and B and B's length (zlib's crc32_combine). */
function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  const times = (mat: Uint32Array, vec: number): number => {
    let sum = 0;
    for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i] as number;
    return sum >>> 0;
  };
  const square = (to: Uint32Array, mat: Uint32Array): void => {
    for (let n = 0; n < 32; n++) to[n] = times(mat, mat[n] as number);
  };
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the operator for one zero bit
  for (let n = 1; n < 32; n++) odd[n] = 1 << (n - 1);
  square(even, odd); // two zero bits
  square(odd, even); // four
  let crc = crcA;
  for (let n = lengthB; n > 0; ) {
    square(even, odd); // one zero byte, then 4, 16, ...
    if (n & 1) crc = times(even, crc);
    n = Math.floor(n / 2);
    if (n === 0) break;
    square(odd, even);
    if (n & 1) crc = times(odd, crc);
    n = Math.floor(n / 2);
  }
  return (crc ^ crcB) >>> 0;
}

const read = (bytes: Uint8Array, source = 'evil.pt') => readTorchCheckpoint(bytes, { source });
const refused = (bytes: Uint8Array, ...words: string[]): void => {
  let error: unknown;
  try {
    read(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(WeightsError);
  const message = (error as Error).message;
  expect(message.startsWith('weights: evil.pt: ')).toBe(true);
  expect(message).not.toContain('\n');
  for (const w of words) expect(message).toContain(w);
};

describe('the helpers build what the reader accepts', () => {
  it('a stored archive, with and without ZIP64 records', () => {
    for (const zip64 of [false, true]) {
      const { tensors } = read(archive(goodPickle(), { '0': f32(1, 2, 3, 4) }, { zip64 }));
      expect(tensors.get('w')).toEqual({
        dtype: 'float32',
        shape: [2, 2],
        data: new Float32Array([1, 2, 3, 4]),
      });
    }
  });
});

/**
 * In TypeScript a pickle cannot run `touch`: these tests check that each payload is refused, by
 * name, before anything is built from it, and the file the payload would create is checked only
 * as a backstop (it cannot appear by itself). What makes running code impossible is that the
 * unpickler calls nothing but the allow-list's entries, and every entry is one of a few builders
 * of plain data: the allow-list tests below pin that table, so adding any other callable fails.
 */
describe('malicious pickles are refused by name before anything is built', () => {
  const dir = mkdtempSync(join(tmpdir(), 'siamese-torch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let count = 0;
  const target = (): string => join(dir, `pwned-${count++}`);

  const cases: [string, string, (file: string) => Uint8Array][] = [
    [
      'GLOBAL os.system + REDUCE',
      'os.system',
      (f) => new Pickle().proto(2).global('os', 'system').str(`touch ${f}`).op(0x85).reduce().stop(),
    ],
    [
      'GLOBAL posix.system',
      'posix.system',
      (f) => new Pickle().proto(2).global('posix', 'system').str(`touch ${f}`).op(0x85).reduce().stop(),
    ],
    [
      'STACK_GLOBAL builtins.eval',
      'builtins.eval',
      (f) =>
        new Pickle()
          .proto(4)
          .str('builtins')
          .str('eval')
          .op(0x93)
          .str(`__import__('os').system('touch ${f}')`)
          .op(0x85)
          .reduce()
          .stop(),
    ],
    [
      'subprocess.Popen with a list',
      'subprocess.Popen',
      (f) =>
        new Pickle()
          .proto(2)
          .global('subprocess', 'Popen')
          .op(0x5d)
          .str('touch')
          .op(0x61)
          .str(f)
          .op(0x61, 0x85)
          .reduce()
          .stop(),
    ],
    [
      'INST os.system (protocol 0 style)',
      'os.system',
      (f) => new Pickle().mark().str(`touch ${f}`).op(0x69).text('os\nsystem\n').stop(),
    ],
    [
      'builtins.getattr gadget',
      'builtins.getattr',
      () => new Pickle().proto(2).global('builtins', 'getattr').stop(),
    ],
    [
      'nested inside a state_dict value, after a good tensor',
      'os.system',
      (f) =>
        new Pickle()
          .proto(2)
          .dict([
            ['w', (p) => p.tensor('0', 4, 0, [2, 2], [2, 1])],
            ['bias', (p) => p.global('os', 'system').str(`touch ${f}`).op(0x85).reduce()],
          ])
          .stop(),
    ],
    [
      'hidden in _rebuild_tensor_v2 hooks',
      'os.system',
      (f) =>
        new Pickle()
          .proto(2)
          .dict([
            [
              'w',
              (p) =>
                p
                  .global('torch._utils', '_rebuild_tensor_v2')
                  .mark()
                  .mark()
                  .str('storage')
                  .global('torch', 'FloatStorage')
                  .str('0')
                  .str('cpu')
                  .int(4)
                  .tuple()
                  .op(0x51)
                  .int(0)
                  .ints([4])
                  .ints([1])
                  .op(0x89)
                  .global('os', 'system')
                  .str(`touch ${f}`)
                  .op(0x85)
                  .reduce()
                  .tuple()
                  .reduce(),
            ],
          ])
          .stop(),
    ],
    [
      'a whole pickled model',
      '__main__.Net',
      () => new Pickle().proto(2).global('__main__', 'Net').op(0x29, 0x81).stop(),
    ],
    [
      'numpy, common in checkpoints',
      'numpy.core.multiarray.scalar',
      () => new Pickle().proto(2).global('numpy.core.multiarray', 'scalar').stop(),
    ],
    ['torch.load itself', 'torch.load', () => new Pickle().proto(2).global('torch', 'load').stop()],
  ];

  for (const [what, global, make] of cases) {
    it(what, () => {
      const file = target();
      refused(
        archive(make(file), { '0': f32(1, 2, 3, 4) }),
        'refusing to load',
        `the global '${global}'`,
        'torch.save(model.state_dict(), path)',
      );
      expect(existsSync(file)).toBe(false);
    });
  }

  it('a raw (non-zip) pickle is still unpickled safely: refused by name', () => {
    const file = target();
    refused(
      new Pickle().proto(2).global('os', 'system').str(`touch ${file}`).op(0x85).reduce().stop(),
      "the global 'os.system'",
    );
    expect(existsSync(file)).toBe(false);
    refused(new Pickle().proto(2).op(0x7d).stop(), 'is a bare pickle, not a torch.save archive');
  });

  it('the refusal is one line that lists exactly what is allowed', () => {
    let message = '';
    try {
      read(archive(cases[0]?.[2](target()) ?? new Uint8Array()));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(
      /^weights: evil\.pt: refusing to load: the pickle names the global 'os\.system', which a state_dict never needs \(allowed: collections\.OrderedDict, torch\._utils\.\{_rebuild_tensor_v2,.*\)\. If this is a checkpoint you trust, re-save only the weights: torch\.save\(model\.state_dict\(\), path\)$/,
    );
    const allowed = /\(allowed: (.*)\)\. If this/.exec(message)?.[1] ?? '';
    expect(new Set(expandBraces(allowed))).toEqual(new Set(ALLOWED_GLOBALS.keys()));
    expect(allowed).toContain('torch.{Size,device,FloatStorage,');
    expect(allowed).toContain('{builtins,__builtin__}.{set,frozenset,bytearray}, _codecs.encode');
    expect(summarizeGlobals(['a.x', 'b.c.y', 'b.c.z', 'd.y', 'd.z'])).toBe('a.x, {b.c,d}.{y,z}');
  });
});

/** Undoes summarizeGlobals: `{a,b}.{c,d}, e.f` -> a.c, a.d, b.c, b.d, e.f. */
function expandBraces(summary: string): string[] {
  const list = (part: string): string[] => (part.startsWith('{') ? part.slice(1, -1).split(',') : [part]);
  return summary.split(', ').flatMap((group) => {
    const [, modules = '', names = ''] = /^(\{[^}]*\}|[^{]*)\.(\{[^}]*\}|[^.{]*)$/.exec(group) ?? [];
    return list(modules).flatMap((m) => list(names).map((n) => `${m}.${n}`));
  });
}

describe('the allow-list', () => {
  // The whole table, spelled out: adding a global (above all a callable) must change this test.
  const BUILDERS: Record<string, (args: readonly PyValue[]) => PyValue> = {
    'collections.OrderedDict': orderedDict,
    'torch._utils._rebuild_tensor_v2': rebuildTensorV2,
    'torch._utils._rebuild_qtensor': rebuildQTensor,
    'torch._utils._rebuild_parameter': rebuildParameter,
    'torch._utils._rebuild_parameter_with_state': rebuildParameterWithState,
    'torch.Size': torchSize,
    'torch.device': torchDevice,
    'builtins.set': pySet,
    'builtins.frozenset': pySet,
    'builtins.bytearray': pyBytearray,
    '__builtin__.set': pySet,
    '__builtin__.frozenset': pySet,
    '__builtin__.bytearray': pyBytearray,
    '_codecs.encode': codecsEncode,
  };
  const STORAGE_TYPES =
    'Float Double Half BFloat16 Long Int Short Char Byte Bool ComplexFloat ComplexDouble QInt8 QUInt8 QInt32 QUInt4x2 QUInt2x4 Untyped';
  const CONSTANTS =
    'float32 float float64 double float16 half bfloat16 int64 long int32 int int16 short int8 uint8 bool complex64 cfloat complex128 cdouble qint8 quint8 qint32 per_tensor_affine per_channel_affine per_channel_affine_float_qparams';

  it('holds exactly the known builders, storage types and constants', () => {
    const storages = STORAGE_TYPES.split(' ').map((t) => `torch.${t}Storage`);
    const constants = CONSTANTS.split(' ').map((c) => `torch.${c}`);
    expect(new Set(ALLOWED_GLOBALS.keys())).toEqual(
      new Set([...Object.keys(BUILDERS), ...storages, ...constants]),
    );
    for (const [name, value] of ALLOWED_GLOBALS) {
      if (value instanceof PyCallable) {
        expect(value.call, name).toBe(BUILDERS[name]);
        expect(value.kind).toBe(name);
      } else if (value instanceof StorageType) {
        expect(storages, name).toContain(name);
        expect(value.kind).toBe(name);
      } else {
        expect(value, name).toBeInstanceOf(TorchConstant);
        expect(constants, name).toContain(name);
      }
    }
  });

  it('every builder returns plain data or a tensor record, or throws a PickleError, whatever its arguments', () => {
    const type = new StorageType('torch.FloatStorage', 'float32', 4);
    const storage = new Storage(type, '0', 4);
    const record = new TensorRecord(storage, 0, [2, 2], [2, 1]);
    const frozen = (xs: PyValue[]): PyValue[] => Object.freeze(xs) as PyValue[];
    const pool: PyValue[] = [
      null,
      true,
      false,
      0,
      3,
      -1,
      2 ** 60,
      1.5,
      2n ** 70n,
      '',
      'cpu',
      'latin1',
      'latin-1',
      'h\u00e9',
      '\u2603',
      new Uint8Array([1, 2]),
      [],
      [1, 2],
      [[1, 2]],
      frozen([]),
      frozen([2, 2]),
      frozen([frozen(['k', 1])]),
      new Map(),
      new Set([1]),
      type,
      storage,
      record,
      new TorchConstant('torch.float16'),
      ALLOWED_GLOBALS.get('torch.Size') as PyValue,
    ];
    const plain = (v: PyValue): boolean =>
      v === null ||
      typeof v === 'string' ||
      v instanceof Uint8Array ||
      v instanceof Map ||
      v instanceof Set ||
      v instanceof TensorRecord ||
      (Array.isArray(v) && v.every((x) => typeof x === 'number'));
    // Arguments each builder accepts, so that every one is seen to succeed too.
    const good: [(args: readonly PyValue[]) => PyValue, PyValue[]][] = [
      [orderedDict, [[frozen(['k', 1])]]],
      [rebuildTensorV2, [storage, 0, frozen([2, 2]), frozen([2, 1]), false, new Map()]],
      [rebuildQTensor, [storage, 0, frozen([4]), frozen([1]), frozen([]), false, new Map()]],
      [rebuildParameter, [record, true, new Map()]],
      [rebuildParameterWithState, [record, true, new Map(), new Map()]],
      [torchSize, [frozen([2, 3])]],
      [torchDevice, ['cuda', 0]],
      [pySet, [[1, 2]]],
      [pyBytearray, ['h\u00e9', 'latin-1']],
      [codecsEncode, ['h\u00e9', 'latin1']],
    ];
    expect(new Set(good.map(([b]) => b))).toEqual(new Set(Object.values(BUILDERS)));
    for (const [builder, args] of good) expect(plain(builder(frozen(args))), builder.name).toBe(true);
    const r = new Random(5);
    for (const builder of new Set(Object.values(BUILDERS))) {
      for (let i = 0; i < 400; i++) {
        const args = frozen(Array.from({ length: r.int(8) }, () => pool[r.int(pool.length)] as PyValue));
        let out: PyValue = null;
        try {
          out = builder(args);
        } catch (e) {
          expect(e, builder.name).toBeInstanceOf(PickleError);
          continue;
        }
        expect(plain(out), `${builder.name} returned ${String(out)}`).toBe(true);
      }
    }
  });
});

describe('damaged archives, storages and views', () => {
  const tiny = new Uint8Array(readFileSync(new URL('../__fixtures__/torch/tiny.pt', import.meta.url)));

  it('the file is empty, neither zip nor pickle, or an unrelated zip', () => {
    refused(new Uint8Array(), 'the file is empty');
    refused(
      new TextEncoder().encode('{"a": 1}'),
      'neither a torch.save archive (zip) nor a pickle',
      '7b 22 61 22',
    );
    refused(
      makeZip([['notes.txt', new Uint8Array(3)]]),
      'not a torch.save checkpoint (no <name>/data.pkl record)',
    );
    refused(
      makeZip([
        ['a/data.pkl', goodPickle()],
        ['b/data.pkl', goodPickle()],
      ]),
      'has 2 data.pkl records',
    );
  });

  it('ZIP: compressed, encrypted, out of bounds, duplicated, damaged', () => {
    refused(
      archive(goodPickle(), { '0': f32(1, 2, 3, 4) }, { method: 8 }),
      "entry 'archive/data.pkl' is compressed (method 8)",
    );
    refused(
      archive(goodPickle(), { '0': f32(1, 2, 3, 4) }, { flags: 1 }),
      "entry 'archive/data.pkl' is encrypted",
    );
    const z = good();
    const end = z.length - 22;
    const moved = z.slice();
    new DataView(moved.buffer).setUint32(end + 16, 0x7fffffff, true);
    refused(moved, 'central directory at byte 2147483647 runs past the end');
    const local = z.slice();
    const dir = new DataView(local.buffer).getUint32(end + 16, true);
    new DataView(local.buffer).setUint32(dir + 42, z.length - 10, true);
    refused(local, "local header of entry 'archive/data.pkl'");
    refused(
      makeZip([
        ['archive/data.pkl', goodPickle()],
        ['archive/data.pkl', goodPickle()],
      ]),
      'appears twice',
    );
    const flipped = z.slice();
    flipped[50] = (flipped[50] as number) ^ 1; // inside data.pkl, which starts at 30 + 16
    refused(flipped, "entry 'archive/data.pkl' is damaged (CRC-32 mismatch)");
    expect(() => readZip(z.subarray(0, z.length - 1), 'x.zip')).toThrow('no end-of-central-directory record');
  });

  it('byte order: little is read, big is refused', () => {
    const order = (s: string) =>
      makeZip([
        ['archive/data.pkl', goodPickle()],
        ['archive/byteorder', new TextEncoder().encode(s)],
        ['archive/data/0', f32(1, 2, 3, 4)],
      ]);
    expect(read(order('little')).tensors.size).toBe(1);
    refused(order('big'), "big-endian machine (byteorder 'big')");
    refused(order('middle'), "unknown byteorder record 'middle'");
  });

  it('storages: missing record, wrong length, conflicting uses, bad persistent ids', () => {
    refused(archive(goodPickle()), "storage '0' has no record 'archive/data/0'");
    refused(
      archive(goodPickle(), { '0': f32(1, 2, 3) }),
      "storage '0' holds 4 float32 elements (16 bytes) but its record 'archive/data/0' has 12 bytes",
    );
    const big = new Pickle()
      .proto(2)
      .dict([['w', (p) => p.tensor('0', 1e15, 0, [1], [1])]])
      .stop();
    refused(archive(big, { '0': f32(1) }), 'holds 1000000000000000 float32 elements');
    const twice = new Pickle()
      .proto(2)
      .dict([
        ['a', (p) => p.tensor('0', 4, 0, [4], [1])],
        ['b', (p) => p.tensor('0', 2, 0, [2], [1], 'DoubleStorage')],
      ])
      .stop();
    refused(archive(twice, { '0': f32(1, 2, 3, 4) }), "storage '0' is named twice");
    const pid = new Pickle()
      .proto(2)
      .dict([['w', (p) => p.str('module').op(0x51)]])
      .stop();
    refused(archive(pid), "unknown persistent id the string 'module'");
  });

  it('views: past the storage, negative, mismatched, absurd', () => {
    const view = (size: number[], stride: number[], offset = 0) =>
      archive(
        new Pickle()
          .proto(2)
          .dict([['w', (p) => p.tensor('0', 4, offset, size, stride)]])
          .stop(),
        {
          '0': f32(1, 2, 3, 4),
        },
      );
    refused(view([10], [1]), "tensor 'w' reaches element 9 of its 4-element storage");
    refused(view([2, 2], [2, 1], 1), "tensor 'w' reaches element 4");
    refused(view([2], [-1], 1), "tensor 'w' has a negative size, stride or offset");
    refused(view([2, 2], [1]), "tensor 'w' has 2 sizes but 1 strides");
    refused(
      view([1e6, 1e6], [0, 0]),
      "tensor 'w' of shape [1000000,1000000] brings the elements read to 1000000000000",
      `its size in bytes plus ${MAX_EXPANSION} elements`,
    );
    refused(view([2 ** 30, 2 ** 30, 2 ** 30], [0, 0, 0]), 'too large to index');
    refused(view([0], [1], 5), "tensor 'w' starts at 5, past its 4-element storage");
    // Zero-size views and stride-0 views within the budget are fine.
    expect(read(view([0, 3], [3, 1], 4)).tensors.get('w')?.shape).toEqual([0, 3]);
    expect(read(view([3, 2], [0, 1], 2)).tensors.get('w')?.data).toEqual(
      new Float32Array([3, 4, 3, 4, 3, 4]),
    );
  });

  it('bool bytes other than 0 and 1 read as 1', () => {
    const p = new Pickle()
      .proto(2)
      .dict([['m', (q) => q.tensor('0', 4, 0, [4], [1], 'BoolStorage')]])
      .stop();
    expect(read(archive(p, { '0': new Uint8Array([0, 1, 2, 255]) })).tensors.get('m')?.data).toEqual(
      new Uint8Array([0, 1, 1, 1]),
    );
  });

  it('no state_dict: the message lists the top-level keys', () => {
    const p = new Pickle().proto(2).dict([
      ['epoch', (q) => q.int(3)],
      ['net', (q) => q.dict([['w', (r) => r.tensor('0', 4, 0, [4], [1])]])],
    ]);
    refused(
      archive(p.stop(), { '0': f32(1, 2, 3, 4) }),
      "no state_dict found: the top-level dict has keys 'epoch', 'net'",
    );
    refused(archive(new Pickle().proto(2).int(5).stop()), 'holds the number 5, not a state_dict');
  });

  it('truncated at any offset: a WeightsError naming the file', () => {
    for (let n = 0; n < tiny.length; n += n < 64 || n > tiny.length - 256 ? 1 : 7) {
      refused(tiny.subarray(0, n));
    }
    // ... and a data.pkl truncated inside an intact archive.
    const pkl = goodPickle();
    for (let n = 0; n < pkl.length; n++) refused(archive(pkl.subarray(0, n), { '0': f32(1, 2, 3, 4) }));
  });

  it('random bytes and random damage: a WeightsError or a good read, never anything else', () => {
    const r = new Random(11);
    for (let i = 0; i < 300; i++) {
      const b = new Uint8Array(r.int(600));
      for (let k = 0; k < b.length; k++) b[k] = r.int(256);
      if (i % 3 === 1 && b.length >= 4) b.set([0x50, 0x4b, 0x03, 0x04]);
      if (i % 3 === 2 && b.length >= 2) b.set([0x80, 0x02]);
      refused(b);
    }
    let ok = 0;
    for (let i = 0; i < 1500; i++) {
      const b = tiny.slice();
      for (let k = r.int(3) + 1; k > 0; k--) b[r.int(b.length)] = r.int(256);
      try {
        read(b);
        ok++;
      } catch (e) {
        if (!(e instanceof WeightsError)) throw e;
        expect(e.message.startsWith('weights: evil.pt: ')).toBe(true);
      }
    }
    expect(ok).toBeGreaterThan(0); // damage to padding and unused fields goes unnoticed
  });
});

describe('what a small file can cost', () => {
  const timed = <T>(f: () => T): { value: T | undefined; error: unknown; ms: number } => {
    const t0 = performance.now();
    try {
      return { value: f(), error: undefined, ms: performance.now() - t0 };
    } catch (error) {
      return { value: undefined, error, ms: performance.now() - t0 };
    }
  };

  it('overlapping zip entries: 200 storages each covering a 2 MB file are refused at once', () => {
    // Before entries had to be disjoint, this file took 7 s and 760 MiB to read.
    const bytes = overlappingArchive(200, 2_000_000);
    expect(bytes.length).toBeGreaterThan(2_000_000);
    const zip = makeZip([['a', bytes.subarray(100, 5000)]]); // the chained CRCs are the real ones
    expect(crc32Combine(crc32(bytes.subarray(100, 300)), crc32(bytes.subarray(300, 5000)), 4700)).toBe(
      new DataView(zip.buffer).getUint32(14, true),
    );
    expect(readZip(overlappingArchive(1, 3000)).read('archive/data/0').length).toBe(3000);
    const { error, ms } = timed(() => read(bytes));
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as Error).message).toBe(
      "weights: evil.pt: zip archive: entries 'archive/data/0' (bytes 0-2009180) and 'archive/data/1' (from byte 44) overlap, which torch never writes",
    );
    expect(ms).toBeLessThan(1000); // about 5 ms
    // The same layout with one storage reads: the check refuses overlaps, not the layout.
    expect(read(overlappingArchive(1, 1000)).tensors.get('t0')?.data).toEqual(new Float32Array([1.05859375])); // 0x3c3c
  });

  it('overlapping zip entries: data over the next header, or over the central directory', () => {
    const z = good();
    const end = z.length - 22;
    const dir = new DataView(z.buffer).getUint32(end + 16, true);
    const pklSize = goodPickle().length;
    const grown = (entry: number, by: number): Uint8Array => {
      const b = z.slice();
      const v = new DataView(b.buffer);
      let c = dir;
      for (let i = 0; i < entry; i++) c += 46 + v.getUint16(c + 28, true);
      v.setUint32(c + 20, v.getUint32(c + 20, true) + by, true);
      v.setUint32(c + 24, v.getUint32(c + 24, true) + by, true);
      return b;
    };
    refused(
      grown(0, 1),
      `zip archive: entries 'archive/data.pkl' (bytes 0-${46 + pklSize + 1}) and 'archive/data/0' (from byte ${46 + pklSize}) overlap`,
    );
    refused(grown(2, 1), "entry 'archive/version'", `overlaps the central directory (bytes ${dir}-`);
    expect(() => readZip(grown(1, 4), 'x.pt')).toThrow(
      "weights: x.pt: zip archive: entries 'archive/data/0'",
    );
  });

  it('stride-0 views: at most the file size plus 2^24 elements in all, named by tensor', () => {
    expect(MAX_EXPANSION).toBe(2 ** 24);
    const views = (...tensors: [string, number[], number[]][]) =>
      archive(
        new Pickle()
          .proto(2)
          .dict(
            tensors.map(([name, size, stride]) => [
              name,
              (p) => p.tensor('0', 4, 1, size, stride, 'ByteStorage'),
            ]),
          )
          .stop(),
        { '0': new Uint8Array([1, 2, 3, 4]) },
      );
    // ~300 bytes that would expand to 2^25 elements: refused before anything is allocated.
    const file = views(['w', [2 ** 25], [0]]);
    expect(file.length).toBeLessThan(600);
    const { error, ms } = timed(() => read(file));
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as Error).message).toBe(
      `weights: evil.pt: tensor 'w' of shape [33554432] brings the elements read to 33554432, more than this ${file.length}-byte file allows (its size in bytes plus 16777216 elements)`,
    );
    expect(ms).toBeLessThan(100);
    // The limit is on all tensors together: the second one that crosses it is named.
    const half = 2 ** 23 + 1000;
    refused(
      views(['a', [half], [0]], ['b', [half], [0]]),
      "tensor 'b' of shape [8389608] brings the elements read to 16779216",
    );
    // Within it, a stride-0 buffer reads.
    const data = read(views(['w', [2 ** 20], [0]])).tensors.get('w')?.data as Uint8Array;
    expect([data.length, data.every((x) => x === 2)]).toEqual([2 ** 20, true]);
  });

  it('maxExpansion: the exact boundary, and a trusted file may expand further', () => {
    const view = (n: number) =>
      archive(
        new Pickle()
          .proto(2)
          .dict([['w', (p) => p.tensor('0', 1, 0, [n], [0], 'ByteStorage')]])
          .stop(),
        { '0': new Uint8Array([7]) },
      );
    const size = view(1).length; // ints are 4-byte BININTs: the length does not depend on n
    expect(readTorchCheckpoint(view(size), { maxExpansion: 0 }).tensors.get('w')?.shape).toEqual([size]);
    expect(() => readTorchCheckpoint(view(size + 1), { maxExpansion: 0 })).toThrow(
      `brings the elements read to ${size + 1}, more than this ${size}-byte file allows (its size in bytes plus 0 elements)`,
    );
    expect(readTorchCheckpoint(view(size + 1), { maxExpansion: 1 }).tensors.get('w')?.shape).toEqual([
      size + 1,
    ]);
    expect(() => readTorchCheckpoint(view(1), { maxExpansion: Number.NaN })).toThrow(RangeError);
  });

  it('the unpickler: a large memoized value passed to a call again and again is refused', () => {
    // _codecs.encode(s, 'latin1') with s a memoized 1 MB string: 8 bytes of opcodes a call, each
    // call a 1 MB copy. Before calls were counted, 400 calls took 2 s and 400 MiB; a second MB of
    // such calls would have asked for 130 GB. Now the second call is refused.
    const n = 2 ** 20;
    const head = new Pickle().proto(2).global('_codecs', 'encode').op(0x71, 0, 0x58, 0, 0, 0x10, 0).stop();
    const tail = new Pickle().op(0x71, 1, 0x30).str('latin1').op(0x71, 2, 0x30, 0x5d, 0x28);
    for (let i = 0; i < 1000; i++) tail.op(0x68, 0, 0x68, 1, 0x68, 2, 0x86, 0x52); // GET GET GET TUPLE2 REDUCE
    const rest = tail.op(0x65).stop();
    const pkl = new Uint8Array(head.length - 1 + n + rest.length); // head without its STOP
    pkl.set(head.subarray(0, -1));
    pkl.fill(0x61, head.length - 1, head.length - 1 + n);
    pkl.set(rest, head.length - 1 + n);
    const { error, ms } = timed(() => read(archive(pkl)));
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^weights: evil\\.pt: archive/data\\.pkl, byte \\d+: REDUCE calls _codecs\\.encode, bringing the arguments of all calls to \\d+ items, more than this ${pkl.length}-byte pickle allows \\(its length plus ${MAX_CALL_ITEMS}\\)`,
      ),
    );
    expect(ms).toBeLessThan(1000);
    // Each argument built afresh, as pickle writes them, stays far below the limit.
    const fresh = new Pickle().proto(2).op(0x5d, 0x28);
    for (let i = 0; i < 1000; i++)
      fresh.global('_codecs', 'encode').str('x'.repeat(1000)).str('latin1').op(0x86, 0x52);
    const value = unpickle(fresh.op(0x65).stop(), {
      findGlobal: (m, n) => ALLOWED_GLOBALS.get(`${m}.${n}`) ?? null,
    }).value as Uint8Array[];
    expect(value.length).toBe(1000);
  });
});

/**
 * Hostile and damaged checkpoints: pickles that try to run code are refused by the name of what
 * they import and never run; broken archives, storages and views are WeightsErrors naming the
 * file, never a crash, a hang or a huge allocation. The archives are built here, with a tiny
 * ZIP writer and pickle assembler (below), so nothing hostile is stored in the repository.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../../nn/random.js';
import { WeightsError } from '../errors.js';
import { MAX_EXPANSION, readTorchCheckpoint } from './checkpoint.js';
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

describe('malicious pickles are refused by name and never run', () => {
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

  it('the refusal is one line that lists what is allowed', () => {
    expect(() => read(archive(cases[0]?.[2](target()) ?? new Uint8Array()))).toThrow(
      /^weights: evil\.pt: refusing to load: the pickle names the global 'os\.system', which a state_dict never needs \(allowed: collections\.OrderedDict, torch\._utils\._rebuild_tensor_v2, .*\)\. If this is a checkpoint you trust, re-save only the weights: torch\.save\(model\.state_dict\(\), path\)$/,
    );
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
    refused(view([1e6, 1e6], [0, 0]), `more than a`, `at most ${MAX_EXPANSION} elements`);
    refused(view([2 ** 30, 2 ** 30, 2 ** 30], [0, 0, 0]), 'too large to index');
    refused(view([0], [1], 5), "tensor 'w' starts at 5, past its 4-element storage");
    // Zero-size views and stride-0 views within the budget are fine.
    expect(read(view([0, 3], [3, 1], 4)).tensors.get('w')?.shape).toEqual([0, 3]);
    expect(read(view([3, 2], [0, 1], 2)).tensors.get('w')?.data).toEqual(
      new Float32Array([3, 4, 3, 4, 3, 4]),
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

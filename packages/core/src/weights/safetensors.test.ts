import { describe, expect, it } from 'vitest';
import type { Tensor } from '../tensor/tensor.js';
import { WeightsError } from './errors.js';
import { type DecodeOptions, decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES } from './safetensors.js';

/** One tensor of every dtype, with edge values, scalars and zero-size tensors. */
function sample(): Map<string, Tensor> {
  return new Map<string, Tensor>([
    [
      'f32',
      {
        dtype: 'float32',
        shape: [2, 3],
        data: new Float32Array([1.5, -0, Number.NaN, Infinity, -Infinity, 1e-45]),
      },
    ],
    ['i64', { dtype: 'int64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 42n]) }],
    ['i32', { dtype: 'int32', shape: [2, 2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -7]) }],
    ['u8', { dtype: 'uint8', shape: [5], data: new Uint8Array([0, 1, 127, 128, 255]) }],
    ['bool', { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) }],
    ['scalar', { dtype: 'float32', shape: [], data: new Float32Array([3.25]) }],
    ['bn.num_batches_tracked', { dtype: 'int64', shape: [], data: new BigInt64Array([17n]) }],
    ['empty', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) }],
    ['empty_i64', { dtype: 'int64', shape: [0], data: new BigInt64Array(0) }],
    ['after_empty', { dtype: 'uint8', shape: [1], data: new Uint8Array([9]) }],
  ]);
}

function bytesOf(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function expectSameTensors(actual: Map<string, Tensor>, expected: Map<string, Tensor>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, e] of expected) {
    const a = actual.get(name);
    expect(a?.dtype, name).toBe(e.dtype);
    expect(a?.shape, name).toEqual(e.shape);
    expect(a?.data.constructor, name).toBe(e.data.constructor);
    expect(a && bytesOf(a), name).toEqual(bytesOf(e)); // bit-exact, NaN and -0 included
  }
}

/** A file from a raw header (text, bytes or a value to JSON.stringify), data and optional length. */
function raw(header: unknown, data: Uint8Array | number = 0, headerLength?: bigint): Uint8Array {
  const h =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

function f32(name: string, shape: number[], begin: number, end: number): Record<string, unknown> {
  return { [name]: { dtype: 'F32', shape, data_offsets: [begin, end] } };
}

/** The WeightsError decoding throws; fails the test on success or on any other error type. */
function decodeError(bytes: Uint8Array, opts?: DecodeOptions): WeightsError {
  try {
    decodeSafetensors(bytes, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsError);
    const err = e as WeightsError;
    expect(err.message).toMatch(/^weights: /);
    expect(err.message).not.toMatch(/[\n\r]/);
    return err;
  }
  throw new Error('expected decodeSafetensors to throw');
}

describe('encodeSafetensors / decodeSafetensors round trip', () => {
  it('keeps every dtype, scalars, zero-size tensors, order and metadata', () => {
    const tensors = sample();
    const meta = { format: 'pt', note: 'ünïcode ✓', ['__proto__']: 'data' };
    const decoded = decodeSafetensors(encodeSafetensors(tensors, meta));
    expectSameTensors(decoded.tensors, tensors);
    expect(decoded.metadata).toEqual(meta);
    expect(Object.getPrototypeOf(decoded.metadata)).toBe(Object.prototype);
  });

  it('accepts an iterable of pairs and an empty set of tensors', () => {
    const pairs = [...sample()];
    expectSameTensors(decodeSafetensors(encodeSafetensors(pairs)).tensors, sample());
    const empty = decodeSafetensors(encodeSafetensors(new Map()));
    expect(empty.tensors.size).toBe(0);
    expect(empty.metadata).toEqual({});
  });

  it('keeps integer-like names in the given order', () => {
    const t = (v: number): Tensor => ({ dtype: 'uint8', shape: [1], data: new Uint8Array([v]) });
    const m = new Map([
      ['b', t(1)],
      ['10', t(2)],
      ['2', t(3)],
    ]);
    expect([...decodeSafetensors(encodeSafetensors(m)).tensors.keys()]).toEqual(['b', '10', '2']);
  });

  it('copies by default; copy: false views aligned data and copies unaligned data', () => {
    const file = encodeSafetensors(sample());
    const copied = decodeSafetensors(file).tensors.get('i64');
    expect(copied?.data.buffer).not.toBe(file.buffer);

    const viewed = decodeSafetensors(file, { copy: false }).tensors.get('i64');
    expect(viewed?.data.buffer).toBe(file.buffer);

    // The same file one byte into a buffer: no Float32Array/BigInt64Array can view it.
    const shifted = new Uint8Array(file.length + 1).subarray(1);
    shifted.set(file);
    const decoded = decodeSafetensors(shifted, { copy: false }).tensors;
    expectSameTensors(decoded, sample());
    for (const t of decoded.values()) {
      if (t.data.BYTES_PER_ELEMENT > 1) expect(t.data.buffer).not.toBe(shifted.buffer);
    }
  });
});

describe('encodeSafetensors layout', () => {
  it('writes the exact bytes: u64 LE length, JSON padded with spaces, LE data', () => {
    const file = encodeSafetensors([['a', { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }]]);
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes -> padded to 56
    const expected = [
      ...[56, 0, 0, 0, 0, 0, 0, 0],
      ...new TextEncoder().encode(`${json}  `),
      ...[0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40],
    ];
    expect([...file]).toEqual(expected);
  });

  it('names every dtype as the spec does and puts __metadata__ last', () => {
    const file = encodeSafetensors(sample(), { k: 'v' });
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<
      string,
      { dtype: string }
    >;
    expect(Object.keys(header).at(-1)).toBe('__metadata__');
    expect(header.f32?.dtype).toBe('F32');
    expect(header.i64?.dtype).toBe('I64');
    expect(header.i32?.dtype).toBe('I32');
    expect(header.u8?.dtype).toBe('U8');
    expect(header.bool?.dtype).toBe('BOOL');
    expect(header['bn.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data_offsets: [76, 84] });
  });

  it('starts the data 8-byte aligned whatever the header length', () => {
    for (let len = 0; len < 20; len++) {
      const name = 'x'.repeat(len);
      const file = encodeSafetensors([[name, { dtype: 'int64', shape: [1], data: new BigInt64Array([5n]) }]]);
      const n = Number(new DataView(file.buffer).getBigUint64(0, true));
      expect((8 + n) % 8).toBe(0);
      expect(file.length).toBe(8 + n + 8);
      const text = new TextDecoder().decode(file.subarray(8, 8 + n));
      expect(text.trimEnd()).toBe(
        `{${JSON.stringify(name)}:{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`,
      );
      expect(text.length - text.trimEnd().length).toBeLessThan(8);
    }
  });

  it('rejects inconsistent tensors and reserved or repeated names', () => {
    const ok: Tensor = { dtype: 'float32', shape: [2], data: new Float32Array(2) };
    expect(() => encodeSafetensors([['a', { ...ok, shape: [3] }]])).toThrow(
      "weights: tensor 'a' has 2 values but shape [3] needs 3",
    );
    expect(() =>
      encodeSafetensors([['a', { dtype: 'float32', shape: [2], data: new Int32Array(2) }]]),
    ).toThrow("weights: tensor 'a' is float32 but its data is a Int32Array");
    expect(() => encodeSafetensors([['a', { ...ok, shape: [-2] }]])).toThrow(/invalid shape \[-2\]/);
    expect(() => encodeSafetensors([['__metadata__', ok]])).toThrow(WeightsError);
    expect(() =>
      encodeSafetensors([
        ['a', ok],
        ['a', ok],
      ]),
    ).toThrow("weights: tensor 'a' is given twice");
  });
});

describe('decodeSafetensors on corrupt files', () => {
  it('header length field truncated', () => {
    expect(decodeError(new Uint8Array(5)).message).toBe(
      'weights: file is 5 bytes, too short for the 8-byte header length',
    );
  });

  it('header length larger than the file', () => {
    expect(decodeError(raw('{}', 0, 1000n)).message).toBe(
      'weights: header length 1000 is larger than the 2 bytes that follow it (truncated file?)',
    );
    expect(decodeError(raw('{}', 0, 2n ** 64n - 1n)).message).toMatch(
      /header length 18446744073709551615 is larger/,
    );
  });

  it('header length above the cap', () => {
    const big = new Uint8Array(8 + MAX_HEADER_BYTES + 1);
    new DataView(big.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expect(decodeError(big).message).toBe(
      'weights: header length 100000001 exceeds the 100000000-byte limit',
    );
  });

  it('header not UTF-8, not JSON, not an object', () => {
    expect(decodeError(raw(new Uint8Array([0x7b, 0xff, 0x7d]))).message).toBe(
      'weights: header is not valid UTF-8',
    );
    expect(decodeError(raw('{"a":\n')).message).toMatch(/^weights: header is not valid JSON \(.+\)$/);
    expect(decodeError(raw('[1,2]')).message).toBe('weights: header is not a JSON object (got an array)');
    expect(decodeError(raw('null')).message).toBe('weights: header is not a JSON object (got null)');
    expect(decodeError(raw('42')).message).toBe('weights: header is not a JSON object (got number)');
    expect(decodeError(raw('')).message).toMatch(/not valid JSON/);
  });

  it('malformed entry', () => {
    const err = decodeError(raw({ a: 5 }));
    expect(err.message).toBe(
      "weights: tensor 'a' has a malformed entry 5 (expected {dtype, shape, data_offsets})",
    );
    expect(err.tensor).toBe('a');
    expect(decodeError(raw({ a: { shape: [], data_offsets: [0, 0] } })).message).toMatch(
      /tensor 'a' has a missing or non-string dtype undefined/,
    );
  });

  it('unknown and unsupported dtypes', () => {
    const entry = (dtype: string) => raw({ a: { dtype, shape: [1], data_offsets: [0, 4] } }, 4);
    expect(decodeError(entry('F33')).message).toBe(
      "weights: tensor 'a' has unknown dtype 'F33' (supported: F32, I64, I32, U8, BOOL)",
    );
    expect(decodeError(entry('constructor')).message).toMatch(/unknown dtype 'constructor'/);
    for (const d of ['F16', 'BF16', 'F64', 'I8', 'U64', 'F8_E4M3']) {
      expect(decodeError(entry(d)).message).toMatch(
        new RegExp(`^weights: tensor 'a' has unsupported dtype '${d}'`),
      );
    }
  });

  it('invalid shapes and offsets', () => {
    for (const shape of [[-1], [1.5], ['3'], [1e300], 7, null]) {
      expect(decodeError(raw({ a: { dtype: 'U8', shape, data_offsets: [0, 1] } }, 1)).message).toMatch(
        /tensor 'a' has an invalid shape .* \(expected an array of non-negative integers\)/,
      );
    }
    for (const offsets of [[4, 0], [0], [0, 1, 2], [-1, 3], [0, 2 ** 53], 'x']) {
      expect(decodeError(raw({ a: { dtype: 'U8', shape: [3], data_offsets: offsets } }, 3)).message).toMatch(
        /tensor 'a' has invalid data_offsets/,
      );
    }
  });

  it('offsets out of bounds', () => {
    expect(decodeError(raw(f32('a', [4], 0, 16), 8)).message).toBe(
      "weights: tensor 'a' has data_offsets [0,16] beyond the 8-byte data section",
    );
  });

  it('shape and byte length disagree (with the source named)', () => {
    const file = raw(f32('encoder.conv1.weight', [64, 3, 7, 7], 0, 1000), 1000);
    const err = decodeError(file);
    expect(err.message).toBe(
      "weights: tensor 'encoder.conv1.weight' declares shape [64,3,7,7] (37632 bytes as F32) but data_offsets span 1000 bytes",
    );
    expect(decodeError(file, { source: 'model/weights.safetensors' }).message).toMatch(
      /^weights: model\/weights\.safetensors: tensor 'encoder\.conv1\.weight' declares/,
    );
  });

  it('huge dims: overflow is an error, never an allocation', () => {
    expect(decodeError(raw(f32('a', [2 ** 40, 2 ** 40], 0, 8), 8)).message).toBe(
      "weights: tensor 'a' declares shape [1099511627776,1099511627776] whose byte size overflows",
    );
    expect(decodeError(raw(f32('a', [2 ** 51], 0, 8), 8)).message).toMatch(/byte size overflows/);
    expect(decodeError(raw(f32('a', [2 ** 30, 2 ** 10], 0, 8), 8)).message).toMatch(
      /declares shape \[1073741824,1024\] \(4398046511104 bytes as F32\) but data_offsets span 8 bytes/,
    );
    // A zero dim makes it empty, even next to dims whose product would overflow.
    const empty = decodeSafetensors(raw(f32('a', [0, 2 ** 52, 2 ** 52], 0, 0))).tensors.get('a');
    expect(empty?.shape).toEqual([0, 2 ** 52, 2 ** 52]);
    expect(empty?.data.length).toBe(0);
  });

  it('overlapping tensors', () => {
    const file = raw({ ...f32('a', [2], 0, 8), ...f32('b', [2], 4, 12) }, 12);
    expect(decodeError(file).message).toBe(
      "weights: tensors 'a' and 'b' overlap (data_offsets [0,8] and [4,12])",
    );
  });

  it('holes and uncovered bytes', () => {
    expect(decodeError(raw({ ...f32('a', [1], 0, 4), ...f32('b', [1], 8, 12) }, 12)).message).toBe(
      "weights: bytes 4..8 of the data section belong to no tensor (a hole before 'b')",
    );
    expect(decodeError(raw(f32('b', [1], 4, 8), 8)).message).toMatch(/bytes 0\.\.4 .* before 'b'/);
    expect(decodeError(raw(f32('a', [1], 0, 4), 8)).message).toBe(
      'weights: the last 4 bytes of the 8-byte data section belong to no tensor',
    );
  });

  it('metadata that is not an object of strings', () => {
    expect(decodeError(raw({ __metadata__: { n: 3 } })).message).toBe(
      "weights: __metadata__ value 'n' must be a string, got 3",
    );
    expect(decodeError(raw({ __metadata__: ['x'] })).message).toMatch(
      /__metadata__ must be an object of strings/,
    );
  });

  it('keeps messages on one line whatever the names contain', () => {
    const err = decodeError(raw({ 'evil\nname': { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, 2));
    expect(err.message).toContain('tensor "evil\\nname" has unsupported dtype');
  });
});

describe('decodeSafetensors on valid files written by others', () => {
  it('reads __metadata__ first, unpadded headers, out-of-order entries and null metadata', () => {
    const data = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0, 7]);
    const header = `{"__metadata__":{"format":"pt"},"z":{"dtype":"U8","shape":[],"data_offsets":[8,9]},"y":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}`;
    const { tensors, metadata } = decodeSafetensors(raw(header, data));
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['y', 'z']); // file (offset) order
    expect([...(tensors.get('y')?.data ?? [])]).toEqual([1, 2]);
    expect(decodeSafetensors(raw({ __metadata__: null })).metadata).toEqual({});
  });
});

describe('Node Buffers', () => {
  it('decodes correct values from a Buffer that views a larger pool, unaligned tensors included', () => {
    const bytes = encodeSafetensors([
      ['odd', { dtype: 'float32', shape: [3], data: Float32Array.from([1.5, -2, 3]) }],
      ['count', { dtype: 'int64', shape: [], data: BigInt64Array.from([7n]) }],
    ]);
    // Buffer.subarray()/slice() return views, so a copy made with slice() would read the pool's start.
    const pooled = Buffer.concat([Buffer.alloc(5, 0xff), Buffer.from(bytes)]).subarray(5);
    for (const copy of [true, false]) {
      const { tensors } = decodeSafetensors(pooled, { copy });
      expect(Array.from(tensors.get('odd')!.data as Float32Array)).toEqual([1.5, -2, 3]);
      expect(tensors.get('count')!.data).toEqual(BigInt64Array.from([7n]));
    }
  });
});

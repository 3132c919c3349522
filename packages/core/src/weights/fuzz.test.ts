/**
 * Seeded mutation fuzzing of decodeSafetensors: thousands of corrupted variants of a few valid
 * files. Each decode must succeed or throw WeightsError (anything else is a bug), a success must
 * hold no more tensor bytes than the input, and the whole run must stay fast.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Random } from '../nn/random.js';
import { numel, type Tensor } from '../tensor/tensor.js';
import { WeightsError } from './errors.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

const ITERATIONS = 20_000;
/** Generous for a slow, shared 2-core CI machine; a laptop does the whole run in about a second. */
const TIME_LIMIT_MS = 30_000;

function seeds(): Uint8Array[] {
  const f = (shape: number[], values: number[]): Tensor => ({
    dtype: 'float32',
    shape,
    data: new Float32Array(values),
  });
  const all = new Map<string, Tensor>([
    ['conv.weight', f([2, 1, 2, 2], [1, -2, 3.5, 0.25, 5, 6, 7, 8])],
    ['bn.num_batches_tracked', { dtype: 'int64', shape: [], data: new BigInt64Array([3n]) }],
    ['ids', { dtype: 'int32', shape: [3], data: new Int32Array([1, -1, 7]) }],
    ['pixels', { dtype: 'uint8', shape: [2, 2], data: new Uint8Array([0, 64, 128, 255]) }],
    ['mask', { dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) }],
    ['empty', f([0, 3], [])],
    ['scalar', f([], [2])],
  ]);
  // Metadata first and no padding, as other writers may produce.
  const foreign = new TextEncoder().encode(
    '{"__metadata__":{"format":"pt"},"b":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}',
  );
  const foreignFile = new Uint8Array(8 + foreign.length + 8);
  new DataView(foreignFile.buffer).setBigUint64(0, BigInt(foreign.length), true);
  foreignFile.set(foreign, 8);
  foreignFile.set([1, 2, 3, 4, 5, 0, 0, 0], 8 + foreign.length);
  return [
    encodeSafetensors(all, { format: 'pt', arch: 'tiny' }),
    encodeSafetensors([['only', f([1], [1])]]),
    encodeSafetensors(new Map()),
    foreignFile,
    new Uint8Array(readFileSync(new URL('./__fixtures__/torch-tiny.safetensors', import.meta.url))),
  ];
}

function pick<T>(r: Random, xs: readonly T[]): T {
  return xs[r.int(xs.length)] as T;
}

const NUMBERS = [
  0,
  1,
  2,
  3,
  4,
  7,
  8,
  -1,
  -8,
  0.5,
  1.5,
  255,
  2 ** 31,
  2 ** 32,
  2 ** 40,
  2 ** 52,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 63,
  2 ** 64,
  1e21,
  1e308,
  Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
];
const DTYPES = [
  'F32',
  'I64',
  'I32',
  'U8',
  'BOOL',
  'F16',
  'BF16',
  'F64',
  'I8',
  'U64',
  'F8_E5M2',
  'f32',
  '',
  'constructor',
  '__proto__',
];

function randomNumber(r: Random): number {
  return r.uniform() < 0.6 ? pick(r, NUMBERS) : r.int(200);
}

/** A random JSON value, biased toward what a header holds. */
function randomValue(r: Random, depth = 0): unknown {
  switch (r.int(depth > 1 ? 5 : 7)) {
    case 0:
      return randomNumber(r);
    case 1:
      return pick(r, DTYPES);
    case 2:
      return pick(r, [null, true, false, 'x', '']);
    case 3:
    case 4:
      return Array.from({ length: r.int(5) }, () => randomNumber(r));
    case 5:
      return Array.from({ length: r.int(3) }, () => randomValue(r, depth + 1));
    default:
      return {
        dtype: pick(r, DTYPES),
        shape: randomValue(r, depth + 1),
        data_offsets: randomValue(r, depth + 1),
      };
  }
}

function declaredLength(file: Uint8Array): bigint {
  return new DataView(file.buffer, file.byteOffset).getBigUint64(0, true);
}

function headerOf(file: Uint8Array): { json: Record<string, unknown>; data: Uint8Array } | undefined {
  if (file.length < 8) return undefined;
  const n = Number(declaredLength(file));
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
    return { json: json as Record<string, unknown>, data: file.subarray(8 + n) };
  } catch {
    return undefined;
  }
}

function withHeader(r: Random, json: unknown, data: Uint8Array): Uint8Array {
  let text = JSON.stringify(json) ?? '';
  if (r.uniform() < 0.5) text += ' '.repeat((8 - (text.length % 8)) % 8);
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Edits the header as JSON: fields set to random values, swapped, deleted, entries added. */
function editJson(r: Random, file: Uint8Array): Uint8Array {
  const parsed = headerOf(file);
  if (parsed === undefined) return file;
  const { json, data } = parsed;
  const names = Object.keys(json);
  const name = names.length > 0 ? pick(r, names) : 'new';
  const entry = json[name];
  const fields = ['dtype', 'shape', 'data_offsets'];
  const op = r.int(9);
  if (op === 8 && typeof entry === 'object' && entry !== null) {
    // A reshape with the same element count: still a valid file.
    const e = entry as Record<string, unknown>;
    if (Array.isArray(e.shape)) {
      e.shape = r.uniform() < 0.5 ? [numel(e.shape as number[])] : [1, ...e.shape, 1];
    }
  } else if (op <= 2 && typeof entry === 'object' && entry !== null) {
    (entry as Record<string, unknown>)[pick(r, fields)] = randomValue(r);
  } else if (op === 3 && names.length > 1) {
    const other = json[pick(r, names)];
    const field = pick(r, fields);
    if (typeof entry === 'object' && entry !== null && typeof other === 'object' && other !== null) {
      const a = entry as Record<string, unknown>;
      const b = other as Record<string, unknown>;
      [a[field], b[field]] = [b[field], a[field]];
    }
  } else if (op === 4) {
    delete json[name];
  } else if (op === 5) {
    json[`${name}.copy`] = structuredClone(entry ?? randomValue(r));
  } else if (op === 6) {
    json[name] = randomValue(r);
  } else {
    return withHeader(r, r.uniform() < 0.5 ? randomValue(r) : { __metadata__: randomValue(r) }, data);
  }
  return withHeader(r, json, data);
}

function mutate(r: Random, input: Uint8Array): Uint8Array {
  const file = input.slice();
  switch (r.int(8)) {
    case 0: {
      for (let i = r.int(8) + 1; i > 0 && file.length > 0; i--) {
        const at = r.int(file.length);
        file[at] = (file[at] as number) ^ (1 << r.int(8));
      }
      return file;
    }
    case 1: {
      const special = [
        0x00, 0xff, 0x7b, 0x7d, 0x22, 0x5b, 0x5d, 0x2c, 0x3a, 0x2d, 0x39, 0x30, 0x20, 0xc3, 0x80,
      ];
      const headerEnd =
        file.length < 8 ? file.length : Math.min(file.length, 8 + Number(declaredLength(file)));
      for (let i = r.int(4) + 1; i > 0 && file.length > 0; i--) {
        // Mostly in the header, where a byte changes meaning.
        const end = r.uniform() < 0.8 && headerEnd > 0 ? headerEnd : file.length;
        file[r.int(end)] = r.uniform() < 0.5 ? pick(r, special) : r.int(256);
      }
      return file;
    }
    case 2:
      return file.slice(0, r.int(file.length + 1));
    case 3: {
      const out = new Uint8Array(file.length + r.int(64) + 1);
      out.set(file);
      for (let i = file.length; i < out.length; i++) out[i] = r.int(256);
      return out;
    }
    case 4: {
      if (file.length < 8) return file;
      const n = Number(declaredLength(file));
      const value = pick(r, [
        0n,
        1n,
        7n,
        BigInt(Math.max(0, n - 1)),
        BigInt(n + 1),
        BigInt(n + 8),
        BigInt(file.length),
        BigInt(file.length - 8),
        2n ** 32n,
        2n ** 53n,
        2n ** 63n,
        2n ** 64n - 1n,
        BigInt(r.nextUint32()),
      ]);
      new DataView(file.buffer).setBigUint64(0, value, true);
      return file;
    }
    case 5: {
      // Data bytes only: the file stays valid, so decoding must succeed on new values.
      const headerEnd = file.length < 8 ? file.length : 8 + Number(declaredLength(file));
      for (let i = r.int(8) + 1; i > 0 && headerEnd < file.length; i--) {
        file[headerEnd + r.int(file.length - headerEnd)] = r.int(256);
      }
      return file;
    }
    default:
      return editJson(r, file);
  }
}

describe('decodeSafetensors under mutation', () => {
  it(`survives ${ITERATIONS} mutated files: success or WeightsError only, never more bytes than the input`, () => {
    const r = new Random(20240607);
    const base = seeds();
    for (const s of base) expect(() => decodeSafetensors(s)).not.toThrow();
    let ok = 0;
    let rejected = 0;
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) {
      let file = pick(r, base);
      for (let k = r.int(3) + 1; k > 0; k--) file = mutate(r, file);
      if (r.uniform() < 0.25) {
        // Some inputs at an odd offset in their buffer: aligned views must not be attempted.
        const shifted = new Uint8Array(file.length + 1).subarray(1);
        shifted.set(file);
        file = shifted;
      }
      try {
        const { tensors } = decodeSafetensors(file, { copy: r.uniform() < 0.5 });
        let total = 0;
        for (const t of tensors.values()) {
          expect(t.data.length).toBe(numel(t.shape));
          total += t.data.byteLength;
        }
        expect(total).toBeLessThanOrEqual(file.length);
        ok++;
      } catch (e) {
        if (!(e instanceof WeightsError)) {
          throw new Error(
            `iteration ${i}: ${String(e)} is not a WeightsError (input ${JSON.stringify([...file.subarray(0, 200)])})`,
          );
        }
        expect(e.message).toMatch(/^weights: [^\n\r]+$/);
        rejected++;
      }
    }
    const elapsed = performance.now() - start;
    expect(elapsed).toBeLessThan(TIME_LIMIT_MS);
    // The mutations are not degenerate: both outcomes occur often.
    expect(ok).toBeGreaterThan(ITERATIONS / 40);
    expect(rejected).toBeGreaterThan(ITERATIONS / 2);
  }, 120_000);
});

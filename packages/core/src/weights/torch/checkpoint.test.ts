/** Files torch.save wrote (tools/reference/torch_checkpoints.py) read back exactly as torch holds them. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../tensor/tensor.js';
import { WeightsError } from '../errors.js';
import { decodeSafetensors } from '../safetensors.js';
import { loadTorchCheckpoint, readTorchCheckpoint } from './checkpoint.js';

type Value = number | string;
interface ExpectedTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: number[];
  readonly values: Value[];
}
interface Expected {
  readonly files: Record<
    string,
    { key: string | null; converted: Record<string, number>; tensors: ExpectedTensor[] }
  >;
  readonly errors: Record<string, string>;
}
interface Record_ {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: string;
  readonly head: Value[];
  readonly samples: [number, Value][];
  readonly sum: Value;
}
interface TorchvisionKeys {
  readonly models: readonly { name: string; keys: { name: string; shape: number[]; dtype: string }[] }[];
}

const fixture = (name: string): URL => new URL(`../__fixtures__/torch/${name}`, import.meta.url);
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(fixture(name)));
const json = <T>(url: URL): T => JSON.parse(readFileSync(url, 'utf8')) as T;
const expected = json<Expected>(fixture('expected.json'));

/** Values as the JSON writes them: int64 as decimal strings, non-finite floats as 'NaN' etc. */
function plain(t: Tensor): Value[] {
  return t.data instanceof BigInt64Array
    ? Array.from(t.data, String)
    : Array.from(t.data as ArrayLike<number>);
}
const parse = (v: Value, dtype: string): Value => (dtype === 'int64' ? v : Number(v));

describe('readTorchCheckpoint on files torch.save wrote', () => {
  for (const [file, e] of Object.entries(expected.files)) {
    it(`${file}: names, dtypes, shapes and values`, () => {
      const ckpt = readTorchCheckpoint(bytes(file), { source: file });
      expect(ckpt.key).toBe(e.key ?? undefined);
      expect(Object.fromEntries(ckpt.converted)).toEqual(e.converted);
      expect([...ckpt.tensors.keys()]).toEqual(e.tensors.map((t) => t.name));
      for (const want of e.tensors) {
        const got = ckpt.tensors.get(want.name) as Tensor;
        expect(got.dtype, want.name).toBe(want.dtype);
        expect(got.shape, want.name).toEqual(want.shape);
        // float32 values as exact doubles: a bit-exact comparison (NaN equals NaN here).
        expect(plain(got), want.name).toEqual(want.values.map((v) => parse(v, want.dtype)));
      }
    });
  }

  it('gives every tensor its own buffer, even views of one storage', () => {
    const { tensors } = readTorchCheckpoint(bytes('views.pt'));
    const base = tensors.get('base') as Tensor<'float32'>;
    (tensors.get('transposed') as Tensor<'float32'>).data[0] = 123;
    expect(base.data[0]).toBe(-1);
    expect(new Set([...tensors.values()].map((t) => t.data.buffer)).size).toBe(tensors.size);
  });

  it('loads from a path, and names the path when it cannot', async () => {
    const path = fileURLToPath(fixture('tiny.pt'));
    const ckpt = await loadTorchCheckpoint(path);
    expect([...ckpt.tensors.keys()]).toEqual(expected.files['tiny.pt']?.tensors.map((t) => t.name));
    const resnet50 = fileURLToPath(fixture('resnet50.pt'));
    await expect(loadTorchCheckpoint(resnet50)).rejects.toThrow(`weights: ${resnet50}: tensor `);
    await expect(loadTorchCheckpoint(path, { maxExpansion: -1 })).rejects.toThrow(
      'maxExpansion must be a non-negative integer, not -1',
    );
    await expect(loadTorchCheckpoint(`${path}.missing`)).rejects.toThrow(
      `weights: ${path}.missing: file does not exist`,
    );
  });

  for (const [file, words] of Object.entries(expected.errors)) {
    it(`${file}: refused with a message naming the file and the problem`, () => {
      const read = (): unknown => readTorchCheckpoint(bytes(file), { source: file });
      expect(read).toThrow(WeightsError);
      expect(read).toThrow(`weights: ${file}: `);
      expect(read).toThrow(words);
    });
  }

  it('says what to do with legacy and TorchScript files', () => {
    expect(() => readTorchCheckpoint(bytes('legacy.pt'), { source: 'legacy.pt' })).toThrow(
      "weights: legacy.pt: was saved in PyTorch's legacy format; re-save it with torch.save in PyTorch >= 1.6",
    );
    expect(() => readTorchCheckpoint(bytes('torchscript.pt'), { source: 'ts.pt' })).toThrow(
      'weights: ts.pt: is a TorchScript archive (torch.jit.save); save model.state_dict() with torch.save',
    );
  });
});

describe('torchvision ResNets with strided-pool weights', () => {
  const torchvision = json<TorchvisionKeys>(
    new URL('../../nn/__fixtures__/torchvision-resnets.json', import.meta.url),
  );
  const records = json<Record<string, Record_[]>>(fixture('resnet-tensors.json'));

  // resnet50.pt's 973 KB hold 25.6M elements of views (resnet18.pt: 230 KB, 11.7M), more than
  // the default limit allows (file bytes + 2^24): a real checkpoint never expands so.
  const trusted = { maxExpansion: 2 ** 25 };

  it('resnet50.pt expands beyond the default limit: refused unless trusted', () => {
    expect(() => readTorchCheckpoint(bytes('resnet50.pt'), { source: 'resnet50.pt' })).toThrow(
      /^weights: resnet50\.pt: tensor '[^']+' of shape \[[\d,]+\] brings the elements read to \d+, more than this 973315-byte file allows \(its size in bytes plus 16777216 elements\)$/,
    );
  });

  for (const arch of ['resnet18', 'resnet50']) {
    it(`${arch}: torchvision's keys and shapes, and the views' values`, () => {
      const { tensors, key, converted } = readTorchCheckpoint(bytes(`${arch}.pt`), {
        source: `${arch}.pt`,
        ...trusted,
      });
      expect(key).toBeUndefined();
      expect(converted.size).toBe(0);
      const reference = torchvision.models.find((m) => m.name === arch)?.keys ?? [];
      const withoutFc = [...tensors].filter(([name]) => !name.startsWith('fc.'));
      expect(withoutFc.map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype }))).toEqual(reference);
      const width = arch === 'resnet18' ? 512 : 2048;
      expect(tensors.get('fc.weight')?.shape).toEqual([1000, width]);
      expect(tensors.get('fc.bias')?.shape).toEqual([1000]);

      const rows = records[arch] ?? [];
      expect(rows.map((r) => r.name)).toEqual([...tensors.keys()]);
      for (const r of rows) {
        const t = tensors.get(r.name) as Tensor;
        // Element by element: a whole ResNet as JS arrays would take seconds.
        const at = (i: number): Value =>
          t.data instanceof BigInt64Array ? String(t.data[i]) : (t.data[i] as number);
        expect(t.shape, r.name).toEqual(r.shape);
        const head = Array.from({ length: Math.min(16, t.data.length) }, (_, i) => at(i));
        expect(head, r.name).toEqual(r.head.map((v) => parse(v, r.dtype)));
        for (const [i, v] of r.samples) expect(at(i), `${r.name}[${i}]`).toEqual(parse(v, r.dtype));
        if (r.dtype === 'int64') {
          expect(String((t.data as BigInt64Array).reduce((a, b) => a + b, 0n))).toBe(r.sum);
        } else {
          let sum = 0;
          for (const v of t.data as Float32Array) sum += v;
          expect(sum, r.name).toBeCloseTo(r.sum as number, 6);
        }
      }
    });
  }

  it('has the embeddings torchvision computed, and their input', () => {
    const input = decodeSafetensors(bytes('resnet-input.safetensors')).tensors.get('input');
    expect(input?.shape).toEqual([2, 3, 64, 64]);
    for (const [arch, width] of [
      ['resnet18', 512],
      ['resnet50', 2048],
    ] as const) {
      const e = json<{ shape: number[]; embeddings: number[] }>(fixture(`${arch}-embeddings.json`));
      expect(e.shape).toEqual([2, width]);
      expect(e.embeddings.length).toBe(2 * width);
      expect(e.embeddings.every((v) => Number.isFinite(v) && v >= 0)).toBe(true); // after ReLU and pooling
    }
  });
});

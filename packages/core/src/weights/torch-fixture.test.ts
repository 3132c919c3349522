/** Cross-check with a file PyTorch data was written to (tools/reference/safetensors_fixture.py). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

interface Expected {
  readonly metadata: Record<string, string>;
  readonly tensors: readonly { name: string; dtype: string; shape: number[]; values: number[] }[];
}

const fixture = (name: string): URL => new URL(`./__fixtures__/${name}`, import.meta.url);
const file = new Uint8Array(readFileSync(fixture('torch-tiny.safetensors')));
const expected = JSON.parse(readFileSync(fixture('torch-tiny.json'), 'utf8')) as Expected;

describe('torch-written safetensors fixture', () => {
  const { tensors, metadata } = decodeSafetensors(file, { source: 'torch-tiny.safetensors' });

  it('has the state_dict keys, dtypes and shapes in order', () => {
    expect(metadata).toEqual(expected.metadata);
    expect([...tensors.keys()]).toEqual(expected.tensors.map((t) => t.name));
    expect(tensors.get('bn1.num_batches_tracked')?.dtype).toBe('int64');
    for (const e of expected.tensors) {
      const t = tensors.get(e.name);
      expect(t?.dtype, e.name).toBe(e.dtype === 'F32' ? 'float32' : 'int64');
      expect(t?.shape, e.name).toEqual(e.shape);
    }
  });

  it('has exactly the values torch wrote', () => {
    for (const e of expected.tensors) {
      const data = tensors.get(e.name)?.data;
      const values = data instanceof BigInt64Array ? [...data].map(Number) : [...(data ?? [])];
      expect(values, e.name).toEqual(e.values); // float32 values as exact doubles: bit-exact
    }
    expect(tensors.get('bn1.num_batches_tracked')?.data).toEqual(new BigInt64Array([1n]));
  });

  it('re-encodes to the same bytes', () => {
    expect(encodeSafetensors(tensors, metadata)).toEqual(file);
  });
});

import { describe, expect, it } from 'vitest';
import { siamese } from '../nn/siamese.js';
import { deserialize, serialize, toJSON } from './serialize.js';
import { IR_VERSION } from './types.js';

const g = siamese({
  encoder: 'resnet10_w8',
  input: { channels: 1, height: 28, width: 28 },
  combine: 'concat',
});

describe('JSON form', () => {
  it('round-trips a graph exactly', () => {
    const text = serialize(g);
    expect(JSON.parse(text).irVersion).toBe(IR_VERSION);
    const back = deserialize(text);
    expect(back).toEqual(g);
    expect(serialize(back)).toBe(text);
  });

  it('accepts the parsed object too', () => {
    expect(deserialize(toJSON(g))).toEqual(g);
  });

  it('rejects another irVersion, bad JSON and missing fields with one clear line', () => {
    expect(() => deserialize('{')).toThrow(/graph JSON does not parse/);
    expect(() => deserialize({ ...toJSON(g), irVersion: 99 })).toThrow(
      /irVersion 99; this version of @siamese\/core reads 1/,
    );
    expect(() => deserialize({ ...toJSON(g), nodes: 'x' })).toThrow(/field 'nodes' must be an array/);
    expect(() => deserialize([])).toThrow(/must be an object/);
  });

  it('verifies shapes on the way in', () => {
    const j = toJSON(g);
    const nodes = j.nodes.map((n) => (n.op === 'concat' ? { ...n, attrs: { axis: 0 } } : n));
    expect(() => deserialize({ ...j, nodes })).toThrow(/node 'combine' \(concat\)/);
  });
});

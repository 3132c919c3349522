import { describe, expect, it } from 'vitest';
import { siamese } from '../nn/siamese.js';
import { extract } from './extract.js';

const g = siamese({ encoder: 'resnet10_w8', input: { channels: 1, height: 28, width: 28 } });

describe('extract', () => {
  it('cuts the encoder: one image in, its embedding out, encoder parameters only', () => {
    const enc = extract(g, {
      name: 'encoder',
      inputs: [],
      outputs: [{ name: 'embedding', value: 'embeddingA' }],
    });
    expect(enc.inputs.map((i) => i.name)).toEqual(['x1']);
    expect(enc.params.every((p) => p.name.startsWith('encoder.'))).toBe(true);
    expect(enc.params.length).toBe(g.params.filter((p) => p.name.startsWith('encoder.')).length);
    expect(enc.nodes.every((n) => n.name.startsWith('a/'))).toBe(true);
    expect(enc.outputs).toEqual([{ name: 'embedding', value: 'a/encoder.flatten' }]);
  });

  it('cuts the head: two embeddings in, the logit out', () => {
    const ea = g.outputs.find((o) => o.name === 'embeddingA')!.value;
    const eb = g.outputs.find((o) => o.name === 'embeddingB')!.value;
    const head = extract(g, {
      name: 'head',
      inputs: [
        { name: 'embeddingA', value: ea },
        { name: 'embeddingB', value: eb },
      ],
      outputs: [{ name: 'logit', value: 'logit' }],
    });
    expect(head.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['embeddingA', ['N', 64]],
      ['embeddingB', ['N', 64]],
    ]);
    expect(head.params.map((p) => p.name)).toEqual([
      'head.0.weight',
      'head.0.bias',
      'head.3.weight',
      'head.3.bias',
    ]);
    expect(head.nodes[0]!.inputs).toEqual(['embeddingA', 'embeddingB']);
  });

  it('rejects unknown values', () => {
    expect(() => extract(g, { name: 'bad', inputs: [{ name: 'e', value: 'nope' }], outputs: [] })).toThrow(
      /cut 'bad': input 'e' refers to unknown value 'nope'/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { summarize } from '../ir/summary.js';
import { COMBINE_MODES, siamese, siameseTraining } from './siamese.js';

const input = { channels: 1, height: 28, width: 28 };
const outputsOf = (g: ReturnType<typeof siamese>) =>
  Object.fromEntries(
    g.outputs.map((o) => [o.name, (g.values[o.value] ?? g.inputs.find((i) => i.name === o.value))!.shape]),
  );

describe('siamese', () => {
  it('applies one encoder with shared weights to both images', () => {
    const g = siamese({ encoder: 'resnet10_w8', input });
    const encoderParams = g.params.filter((p) => p.name.startsWith('encoder.'));
    const convs = g.nodes.filter((n) => n.op === 'conv2d');
    expect(convs.length).toBe(
      2 *
        encoderParams.filter(
          (p) =>
            p.name.endsWith('conv1.weight') ||
            p.name.endsWith('conv2.weight') ||
            p.name.endsWith('downsample.0.weight'),
        ).length,
    );
    expect(convs.filter((n) => n.name.startsWith('a/')).map((n) => n.inputs[1])).toEqual(
      convs.filter((n) => n.name.startsWith('b/')).map((n) => n.inputs[1]),
    );
    expect(outputsOf(g)).toEqual({
      logit: ['N', 1],
      probability: ['N', 1],
      embeddingA: ['N', 64],
      embeddingB: ['N', 64],
    });
  });

  it('has the original head by default: Linear(D, 1023), ReLU, Dropout(0.5), Linear(1023, 1)', () => {
    const g = siamese({
      encoder: 'resnet50',
      input: { channels: 3, height: 224, width: 224 },
      combine: 'diff',
    });
    const head = g.params.filter((p) => p.name.startsWith('head.'));
    expect(head.map((p) => [p.name, p.shape])).toEqual([
      ['head.0.weight', [1023, 2048]],
      ['head.0.bias', [1023]],
      ['head.3.weight', [1, 1023]],
      ['head.3.bias', [1]],
    ]);
    expect(head.reduce((n, p) => n + (p.shape as number[]).reduce((a, b) => a * b, 1), 0)).toBe(2_097_151);
    expect(summarize(g).parameters).toBe(23_508_032 + 2_097_151);
    expect(g.nodes.find((n) => n.op === 'dropout')!.attrs).toEqual({ p: 0.5 });
  });

  it('supports every combine mode with the right head width', () => {
    const widths: Record<string, number> = { absdiff: 64, diff: 64, concat: 128, euclidean: 1, cosine: 1 };
    for (const combine of COMBINE_MODES) {
      const g = siamese({ encoder: 'resnet10_w8', input, combine });
      const first = g.params.find((p) => p.name === 'head.0.weight')!;
      expect(first.shape[1], combine).toBe(widths[combine]);
      // Distance combines default to a learned scale and bias on the distance: Linear(1, 1).
      if (widths[combine] === 1) expect(first.shape).toEqual([1, 1]);
      expect(outputsOf(g).logit).toEqual(['N', 1]);
    }
  });

  it('accepts a configurable MLP head and normalized embeddings', () => {
    const g = siamese({
      encoder: 'resnet10_w8',
      input,
      head: { hidden: [32, 16], dropout: 0.1 },
      normalizeEmbeddings: true,
    });
    expect(
      g.params.filter((p) => p.name.endsWith('.weight') && p.name.startsWith('head.')).map((p) => p.shape),
    ).toEqual([
      [32, 64],
      [16, 32],
      [1, 16],
    ]);
    expect(g.nodes.filter((n) => n.op === 'l2Normalize').length).toBe(2);
  });

  it('builds training graphs for each loss with the same parameter names', () => {
    const inference = siamese({ encoder: 'resnet10_w8', input }).params.map((p) => p.name);
    const bce = siameseTraining({ encoder: 'resnet10_w8', input }, { kind: 'bce' });
    expect(bce.params.map((p) => p.name)).toEqual(inference);
    expect(bce.inputs.map((i) => i.name)).toEqual(['x1', 'x2', 'labels']);
    expect(outputsOf(bce).loss).toEqual([]);
    const con = siameseTraining({ encoder: 'resnet10_w8', input }, { kind: 'contrastive', margin: 2 });
    expect(con.nodes.find((n) => n.op === 'contrastiveLoss')!.attrs).toEqual({ margin: 2 });
    expect(outputsOf(con).distance).toEqual(['N', 1]);
    const tri = siameseTraining({ encoder: 'resnet10_w8', input }, { kind: 'triplet' });
    expect(tri.inputs.map((i) => i.name)).toEqual(['anchor', 'positive', 'negative']);
    expect(tri.params.every((p) => p.name.startsWith('encoder.'))).toBe(true);
    expect(tri.nodes.find((n) => n.op === 'tripletLoss')!.attrs).toEqual({ margin: 1, eps: 1e-6 });
  });

  it('rejects bad configuration with one clear line', () => {
    expect(() => siamese({ encoder: 'resnet19', input })).toThrow(
      /unknown architecture 'resnet19' \(known: resnet18, /,
    );
    expect(() => siamese({ encoder: 'resnet18', input, combine: 'sum' as never })).toThrow(
      /combine must be one of/,
    );
    expect(() => siamese({ encoder: 'resnet18', input: { ...input, height: 0 } })).toThrow(
      /input\.height must be a positive integer/,
    );
    expect(() => siamese({ encoder: 'resnet18', input, head: { dropout: 1 } })).toThrow(/head\.dropout/);
  });
});

/** BatchNorm folding on small graphs: what folds, what does not, and that outputs do not move. */
import { batchNorm2d, conv, GraphBuilder, initWeights, Random, relu, type Tensor } from '@siamese/core';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { foldBatchNorm } from './fold.js';
import { exportOnnx } from './model.js';

function build() {
  const b = new GraphBuilder('fold');
  const x = b.input('x', 'float32', ['N', 3, 8, 8]);
  // Shared module applied twice (as the two Siamese branches are): folds once.
  const shared = (tag: string) =>
    b.branch(tag, () => batchNorm2d(b, 'bn1', conv(b, 'conv1', x, 3, 4, 3, { padding: 1 }), 4));
  const [a, c] = [shared('a'), shared('b')];
  // A conv with a bias folds too; a conv whose output is read twice does not.
  const biased = batchNorm2d(b, 'bn2', conv(b, 'conv2', a, 4, 4, 1, { bias: true }), 4);
  const reused = conv(b, 'conv3', c, 4, 4, 1);
  const kept = batchNorm2d(b, 'bn3', reused, 4);
  b.output('y', b.op('add', [b.op('add', [biased, kept]), relu(b, reused)]));
  return b.build();
}

function randomized(weights: Map<string, Tensor>): Map<string, Tensor> {
  const rng = new Random(5);
  for (const [name, t] of weights) {
    if (t.dtype !== 'float32' || (!name.startsWith('bn') && !name.endsWith('bias'))) continue;
    const d = t.data as Float32Array;
    for (let i = 0; i < d.length; i++)
      d[i] = name.endsWith('running_var') ? 0.5 + rng.uniform() : rng.normal();
  }
  return weights;
}

describe('foldBatchNorm', () => {
  const graph = build();
  const weights = randomized(initWeights(graph, 4));

  it('folds each batchNorm after a conv whose output nothing else reads, shared modules once', () => {
    const folded = foldBatchNorm(graph, weights);
    expect(folded.count).toBe(3);
    expect(folded.graph.nodes.filter((n) => n.op === 'batchNorm').map((n) => n.name)).toEqual(['bn3']);
    expect(folded.graph.params.map((p) => p.name).filter((n) => n.endsWith('.folded'))).toEqual([
      'conv1.weight.folded',
      'conv1.bias.folded',
      'conv2.weight.folded',
      'conv2.bias.folded',
    ]);
    // The originals are no longer read, so they leave the graph.
    expect(folded.graph.params.some((p) => p.name === 'bn1.running_mean' || p.name === 'conv1.weight')).toBe(
      false,
    );
  });

  it('gives the same outputs in onnxruntime within 1e-5', async () => {
    const rng = new Random(9);
    const x = new OrtTensor(
      'float32',
      Float32Array.from({ length: 2 * 3 * 64 }, () => rng.normal()),
      [2, 3, 8, 8],
    );
    const outputs: Float32Array[] = [];
    for (const foldBatchNorm of [false, true]) {
      const s = await InferenceSession.create(exportOnnx(graph, weights, { foldBatchNorm }));
      outputs.push((await s.run({ x })).y!.data as Float32Array);
      await s.release();
    }
    const [plain, folded] = outputs as [Float32Array, Float32Array];
    expect(plain.some((v) => v !== 0)).toBe(true);
    for (let i = 0; i < plain.length; i++) expect(Math.abs(plain[i]! - folded[i]!)).toBeLessThan(1e-5);
  });
});

/**
 * Parameter groups and freezing, run: torch.optim's param_groups give each group its own lr (so a
 * group's first Adam step is the plain step at lr x factor), and a frozen encoder keeps its weights
 * and BatchNorm statistics while the head trains.
 */
import { type Batch, freeze, initWeights, siameseTraining, type Tensor } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { createOnnxBackend } from './backend.js';

const graph = siameseTraining(
  {
    encoder: 'resnet10_w8',
    input: { channels: 1, height: 16, width: 16 },
    head: { hidden: [8], dropout: 0 },
  },
  { kind: 'bce' },
);

function batch(n: number, seed: number): Batch {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  };
  const image = (): Tensor<'float32'> => ({
    dtype: 'float32',
    shape: [n, 1, 16, 16],
    data: Float32Array.from({ length: n * 256 }, rand),
  });
  const labels: Tensor<'float32'> = {
    dtype: 'float32',
    shape: [n, 1],
    data: Float32Array.from({ length: n }, (_, i) => i % 2),
  };
  return { inputs: { x1: image(), x2: image(), labels }, size: n };
}

async function afterSteps(
  o: Parameters<typeof createOnnxBackend>[0],
  steps: number,
  lr: number,
): Promise<Map<string, Tensor>> {
  const b = await createOnnxBackend({ device: 'cpu', threads: 1, weights: initWeights(graph, 5), ...o });
  try {
    for (let i = 0; i < steps; i++) await b.step(batch(4, 11 + i), lr);
    return await b.readWeights();
  } finally {
    await b.dispose();
  }
}

function maxDiff(a: Tensor | undefined, b: Tensor | undefined): number {
  let m = 0;
  for (let i = 0; i < (a?.data.length ?? 0); i++)
    m = Math.max(m, Math.abs(Number(a!.data[i]) - Number(b!.data[i])));
  return m;
}

const encoder = (w: Map<string, Tensor>) =>
  [...w].filter(([k]) => k.startsWith('encoder.') && k.endsWith('weight'));
const head = (w: Map<string, Tensor>) => [...w].filter(([k]) => k.startsWith('head.'));

describe('parameter groups', () => {
  for (const optimizer of [
    { kind: 'adam' },
    { kind: 'adamw', weightDecay: 0.5 },
    { kind: 'sgd', momentum: 0.9 },
  ] as const) {
    it(`${optimizer.kind}: the encoder's group steps at lr x factor, the head at lr`, async () => {
      const lr = 0.01;
      const grouped = await afterSteps(
        { graph, optimizer, paramGroups: [{ prefix: 'encoder.', lrFactor: 0.1 }] },
        1,
        lr,
      );
      const slow = await afterSteps({ graph, optimizer }, 1, lr * 0.1);
      const plain = await afterSteps({ graph, optimizer }, 1, lr);
      const start = initWeights(graph, 5);
      for (const [k, t] of encoder(grouped)) {
        expect(maxDiff(t, slow.get(k)), k).toBeLessThan(1e-6);
        if (k === 'encoder.conv1.weight') expect(maxDiff(t, start.get(k))).toBeGreaterThan(1e-5);
      }
      for (const [k, t] of head(grouped)) expect(maxDiff(t, plain.get(k)), k).toBeLessThan(1e-6);
    });
  }
});

describe('a frozen encoder', () => {
  it('keeps its weights and BatchNorm statistics over steps while the head trains', async () => {
    const start = initWeights(graph, 5);
    const after = await afterSteps({ graph: freeze(graph, 'encoder.') }, 3, 0.01);
    for (const [k, t] of after) {
      if (k.startsWith('encoder.')) expect(t.data, k).toEqual(start.get(k)!.data);
    }
    expect(head(after).some(([k, t]) => maxDiff(t, start.get(k)) > 1e-4)).toBe(true);
    // Unfrozen, the same steps move the encoder and its running statistics.
    const free = await afterSteps({ graph }, 3, 0.01);
    expect(
      maxDiff(free.get('encoder.bn1.running_mean'), start.get('encoder.bn1.running_mean')),
    ).toBeGreaterThan(1e-4);
  });
});

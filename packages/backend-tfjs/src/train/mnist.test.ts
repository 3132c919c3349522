/**
 * A tiny Siamese ResNet learns on real data: MNIST pairs (the `mnist` package's digits), trained by
 * core's loop on the wasm backend; pair accuracy on held-out images must clearly beat chance.
 */
import { createRequire } from 'node:module';
import {
  allocate,
  type Batch,
  defaultPreprocessing,
  Random,
  siamese,
  siameseTraining,
  train,
} from '@siamese/core';
import { expect, it } from 'vitest';
import { createTfjsBackend } from './backend.js';

interface Digit {
  readonly length: number;
  get(index: number): number[];
}
const digits = createRequire(import.meta.url)('mnist') as Digit[];

const SIZE = 28;
const config = {
  encoder: 'resnet10_w8',
  input: { channels: 1, height: SIZE, width: SIZE },
  head: { hidden: [32], dropout: 0 },
} as const;

/** Images `from..from+count` of every digit, normalized like torchvision's MNIST examples. */
function images(from: number, count: number): Float32Array[][] {
  return digits.map((d) =>
    Array.from({ length: count }, (_, i) => Float32Array.from(d.get(from + i), (v) => (v - 0.1307) / 0.3081)),
  );
}

/** Half same-digit, half different-digit pairs, drawn with core's seeded generator. */
function pairs(pool: Float32Array[][], seed: number, n: number): Batch {
  const r = new Random(seed);
  const pick = (k: number): number => Math.floor(r.uniform() * k) % k;
  const x1 = allocate('float32', [n, 1, SIZE, SIZE]);
  const x2 = allocate('float32', [n, 1, SIZE, SIZE]);
  const labels = allocate('float32', [n, 1]);
  for (let i = 0; i < n; i++) {
    const a = pick(10);
    const same = i % 2 === 0;
    const b = same ? a : (a + 1 + pick(9)) % 10;
    x1.data.set(pool[a]![pick(pool[a]!.length)]!, i * SIZE * SIZE);
    x2.data.set(pool[b]![pick(pool[b]!.length)]!, i * SIZE * SIZE);
    labels.data[i] = same ? 1 : 0;
  }
  return { inputs: { x1, x2, labels }, size: n };
}

it('learns MNIST pairs: loss falls and held-out pair accuracy clearly exceeds chance', async () => {
  const trainPool = images(0, 300);
  const heldOut = images(600, 40);
  const steps = 50;
  const backend = await createTfjsBackend({
    graph: siameseTraining(config, { kind: 'bce' }),
    device: 'wasm',
    seed: 1,
    optimizer: { kind: 'adam' },
  });
  const result = await train({
    backend,
    model: { graph: siamese(config), config, preprocessing: defaultPreprocessing(config.input) },
    data: {
      train: (epoch) => Array.from({ length: steps }, (_, s) => pairs(trainPool, 1000 * epoch + s, 32)),
      stepsPerEpoch: steps,
      validation: () => [pairs(heldOut, 7, 200)],
    },
    epochs: 4,
    lr: { lr: 3e-3, schedule: { kind: 'cosine', minFactor: 0.1 } },
  });
  backend.dispose();
  const [first, last] = [result.history[0]!, result.history.at(-1)!];
  expect(last.trainLoss).toBeLessThan(first.trainLoss);
  expect(last.trainLoss).toBeLessThan(0.6);
  expect(last.validation!.accuracy).toBeGreaterThan(0.75);
  expect(last.validation!.auc).toBeGreaterThan(0.8);
  console.log(
    result.history
      .map(
        (h) =>
          `epoch ${h.epoch}: loss ${h.trainLoss.toFixed(3)}, held-out acc ${h.validation!.accuracy.toFixed(3)} auc ${h.validation!.auc.toFixed(3)} (${h.seconds.toFixed(1)} s)`,
      )
      .join('\n'),
  );
});

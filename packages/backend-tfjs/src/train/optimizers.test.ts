/** The optimizers against torch.optim (three steps on fixed gradients), and gradient clipping. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveDevice } from '../device.js';
import { clipGradients } from './clip.js';
import { checkOptimizer, type OptimizerConfig, slotNames, update } from './optimizers.js';

// torch.optim's trajectories, shared by every backend through @siamese/core's conformance data.
const fixture = createRequire(import.meta.url).resolve(
  '@siamese/core/conformance/optimizers/torch-optim.json',
);
const fx = JSON.parse(await readFile(fixture, 'utf8')) as {
  lr: number;
  p0: number[];
  grads: number[][];
  cases: { config: OptimizerConfig; steps: number[][] }[];
};

beforeAll(async () => {
  await resolveDevice('js');
});

describe('optimizers', () => {
  it.each(fx.cases.map((c) => [JSON.stringify(c.config), c] as const))(
    '%s matches torch.optim',
    async (_n, c) => {
      const p = tf.variable(tf.tensor1d(fx.p0));
      const slots = new Map(slotNames(c.config).map((s) => [s, tf.variable(tf.zerosLike(p))]));
      for (const [i, g] of fx.grads.entries()) {
        tf.tidy(() =>
          update(c.config, 'p', p, tf.tensor1d(g), { get: (_p, s) => slots.get(s)! }, fx.lr, i + 1),
        );
        const got = await p.data();
        c.steps[i]!.forEach((want, j) => {
          expect(got[j]).toBeCloseTo(want, 5);
        });
      }
      tf.dispose([p, ...slots.values()]);
    },
  );

  it('rejects nonsense', () => {
    expect(() => checkOptimizer({ kind: 'sgd', nesterov: true })).toThrow(/nesterov needs momentum/);
    expect(() => checkOptimizer({ kind: 'adam', beta1: 1 })).toThrow(/beta1/);
    expect(() => checkOptimizer({ kind: 'sgd', weightDecay: -1 })).toThrow(/weightDecay/);
  });
});

describe('clipGradients', () => {
  it('scales to the global norm like clip_grad_norm_, and clamps values', async () => {
    const [a, b] = tf.tidy(() => clipGradients([tf.tensor1d([3, 0]), tf.tensor1d([0, 4])], { maxNorm: 1 }));
    expect([...(await a!.data()), ...(await b!.data())].map((v) => +v.toFixed(5))).toEqual([0.6, 0, 0, 0.8]);
    const [c] = tf.tidy(() => clipGradients([tf.tensor1d([-3, 0.5, 2])], { maxValue: 1 }));
    expect([...(await c!.data())]).toEqual([-1, 0.5, 1]);
    const [d] = tf.tidy(() => clipGradients([tf.tensor1d([0.1, 0.2])], { maxNorm: 10 }));
    expect([...(await d!.data())].map((v) => +v.toFixed(6))).toEqual([0.1, 0.2]);
    tf.dispose([a!, b!, c!, d!]);
  });
});

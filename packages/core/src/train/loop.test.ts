import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPreprocessing } from '../artifact/preprocessing.js';
import { initWeights } from '../nn/init.js';
import { Random } from '../nn/random.js';
import { siamese } from '../nn/siamese.js';
import { allocate, type Tensor } from '../tensor/tensor.js';
import type { Batch, OptimizerState, TrainingBackend } from './backend.js';
import type { TrainEvent } from './events.js';
import { TrainingError, type TrainOptions, train } from './loop.js';
import { learningRate } from './schedule.js';

// A real graph whose head is Linear(1, 1) on the euclidean distance: the fake backend below trains
// exactly those two numbers by logistic regression on a 1-D feature, leaving the rest untouched.
const config = {
  encoder: 'resnet10_w8',
  input: { channels: 1, height: 16, width: 16 },
  combine: 'euclidean',
} as const;
const graph = siamese(config);
const model = { graph, config, preprocessing: defaultPreprocessing(config.input) };

/** Logistic regression p = sigmoid(w * x + b), SGD with momentum 0.9: a stand-in for a compiled step. */
class FakeBackend implements TrainingBackend {
  readonly description = 'fake (logistic regression)';
  weights = initWeights(graph, 0);
  velocity = new Float32Array(2);
  steps = 0;
  constructor(private readonly nanAt = Infinity) {}

  private get wb(): [Float32Array, Float32Array] {
    return [
      this.weights.get('head.0.weight')!.data as Float32Array,
      this.weights.get('head.0.bias')!.data as Float32Array,
    ];
  }

  private forward(b: Batch): { p: Float32Array; loss: number } {
    const [w, bias] = this.wb;
    const x = b.inputs.x1!.data;
    const y = b.inputs.labels!.data;
    const p = new Float32Array(b.size);
    let loss = 0;
    for (let i = 0; i < b.size; i++) {
      p[i] = 1 / (1 + Math.exp(-(w[0]! * x[i]! + bias[0]!)));
      loss -= y[i]! * Math.log(p[i]! + 1e-12) + (1 - y[i]!) * Math.log(1 - p[i]! + 1e-12);
    }
    return { p, loss: loss / b.size };
  }

  async step(b: Batch, lr: number) {
    const { p, loss } = this.forward(b);
    const [w, bias] = this.wb;
    let gw = 0;
    let gb = 0;
    for (let i = 0; i < b.size; i++) {
      const e = p[i]! - b.inputs.labels!.data[i]!;
      gw += (e * b.inputs.x1!.data[i]!) / b.size;
      gb += e / b.size;
    }
    this.velocity[0] = 0.9 * this.velocity[0]! + gw;
    this.velocity[1] = 0.9 * this.velocity[1]! + gb;
    w[0]! -= lr * this.velocity[0]!;
    bias[0]! -= lr * this.velocity[1]!;
    this.steps++;
    return { loss: this.steps >= this.nanAt ? Number.NaN : loss };
  }

  async evaluate(b: Batch) {
    const { p, loss } = this.forward(b);
    return { scores: p, loss };
  }

  async readWeights() {
    return new Map([...this.weights].map(([k, t]) => [k, { ...t, data: t.data.slice() } as Tensor]));
  }

  async writeWeights(w: Map<string, Tensor>) {
    this.weights = new Map(w);
  }

  async readOptimizerState(): Promise<OptimizerState> {
    return {
      step: this.steps,
      slots: new Map([['velocity', { dtype: 'float32', shape: [2], data: this.velocity.slice() }]]),
    };
  }

  async writeOptimizerState(s: OptimizerState) {
    this.steps = s.step;
    this.velocity = (s.slots.get('velocity')!.data as Float32Array).slice();
  }

  dispose() {}
}

/** Same pairs have small feature values, different pairs large ones: learnable, with noise. */
function batches(seed: number, count: number, size = 16): Batch[] {
  const r = new Random(seed);
  return Array.from({ length: count }, () => {
    const x = allocate('float32', [size, 1]);
    const y = allocate('float32', [size, 1]);
    for (let i = 0; i < size; i++) {
      y.data[i] = i % 2;
      x.data[i] = (i % 2 ? 0.5 : 2) + r.normal() * 0.4;
    }
    return { inputs: { x1: x, labels: y }, size };
  });
}

const data = {
  train: (epoch: number) => batches(100 + epoch, 8),
  stepsPerEpoch: 8,
  validation: () => batches(7, 4),
};
const base = (backend: TrainingBackend, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  backend,
  model,
  data,
  epochs: 4,
  lr: { lr: 0.1, schedule: { kind: 'constant' } },
  now: (() => {
    let t = 0;
    return () => (t += 0.01);
  })(),
  ...extra,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'siamese-train-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('train', () => {
  it('trains, validates each epoch and reports progress in order', async () => {
    const events: TrainEvent[] = [];
    const result = await train(base(new FakeBackend(), { onEvent: (e) => events.push(e) }));
    expect(result).toMatchObject({ epochs: 4, steps: 32, stopped: 'completed' });
    expect(result.history[3]!.trainLoss).toBeLessThan(result.history[0]!.trainLoss);
    expect(result.history[3]!.validation!.auc).toBeGreaterThan(0.95);
    expect(result.history[3]!.validation!.accuracy).toBeGreaterThan(0.9);
    expect(events[0]).toMatchObject({ type: 'start', epochs: 4, stepsPerEpoch: 8, resumedAt: 0 });
    expect(events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step)).toEqual(
      Array.from({ length: 32 }, (_, i) => i + 1),
    );
    const step = events.find((e) => e.type === 'step') as Extract<TrainEvent, { type: 'step' }>;
    expect(step.pairsPerSecond).toBeCloseTo(1600, 6);
    expect(step.eta).toBeCloseTo((31 * 16) / 1600, 6);
    expect(events.at(-1)).toEqual({ type: 'stop', reason: 'completed', epoch: 4, step: 32 });
  });

  it('is reproducible: the same data and seeds give the same history', async () => {
    const a = await train(base(new FakeBackend()));
    const b = await train(base(new FakeBackend()));
    expect(b.history.map((h) => h.trainLoss)).toEqual(a.history.map((h) => h.trainLoss));
  });

  it('stops early when the metric stops improving', async () => {
    const r = await train(
      base(new FakeBackend(), {
        epochs: 20,
        earlyStopping: { metric: 'loss', mode: 'min', patience: 2, minDelta: 1 },
      }),
    );
    expect(r.stopped).toBe('early-stopping');
    expect(r.epochs).toBe(3);
    expect(r.best!.epoch).toBe(1);
  });

  it.each([
    ['from memory', undefined],
    ['from the best checkpoint', 'best-restore'],
  ])('leaves the best epoch’s weights in the backend when training ends (%s)', async (_how, sub) => {
    const stop = { metric: 'loss', mode: 'min' as const, patience: 2, minDelta: 1 };
    const epochOne = new FakeBackend();
    await train(base(epochOne, { epochs: 1 }));
    const b = new FakeBackend();
    const r = await train(
      base(b, { epochs: 20, earlyStopping: stop, ...(sub ? { checkpoint: { dir: join(dir, sub) } } : {}) }),
    );
    expect(r).toMatchObject({ epochs: 3, weights: 'best', best: { epoch: 1 } });
    expect(b.weights.get('head.0.weight')!.data).toEqual(epochOne.weights.get('head.0.weight')!.data);
    const last = new FakeBackend();
    const kept = await train(base(last, { epochs: 20, earlyStopping: stop, restoreBest: false }));
    expect(kept.weights).toBe('last');
    expect(last.weights.get('head.0.weight')!.data).not.toEqual(epochOne.weights.get('head.0.weight')!.data);
  });

  it('says once when validation AUC stays near chance for two epochs, and goes on training', async () => {
    // A feature that is the same for every pair: nothing to learn, AUC exactly 0.5.
    const flat = (seed: number, count: number) =>
      batches(seed, count).map((b) => ({ ...b, inputs: { ...b.inputs, x1: allocate('float32', [16, 1]) } }));
    const events: TrainEvent[] = [];
    const r = await train(
      base(new FakeBackend(), {
        data: { train: (e) => flat(100 + e, 8), stepsPerEpoch: 8, validation: () => flat(7, 4) },
        onEvent: (e) => events.push(e),
      }),
    );
    expect(r.epochs).toBe(4);
    expect(events.filter((e) => e.type === 'stall')).toEqual([
      { type: 'stall', epoch: 2, epochs: 2, auc: 0.5, below: 0.55 },
    ]);
    const learned: TrainEvent[] = [];
    await train(base(new FakeBackend(), { onEvent: (e) => learned.push(e) }));
    expect(learned.some((e) => e.type === 'stall')).toBe(false);
    const off: TrainEvent[] = [];
    await train(
      base(new FakeBackend(), {
        data: { train: (e) => flat(100 + e, 8), stepsPerEpoch: 8, validation: () => flat(7, 4) },
        stall: false,
        onEvent: (e) => off.push(e),
      }),
    );
    expect(off.some((e) => e.type === 'stall')).toBe(false);
  });

  it('resumes from a checkpoint with the same result as an uninterrupted run', async () => {
    const straight = new FakeBackend();
    await train(base(straight));
    const ckpt = join(dir, 'resume');
    const first = new FakeBackend();
    await train(base(first, { epochs: 2, checkpoint: { dir: ckpt } }));
    const second = new FakeBackend();
    const events: TrainEvent[] = [];
    const r = await train(
      base(second, { checkpoint: { dir: ckpt }, resume: true, onEvent: (e) => events.push(e) }),
    );
    expect(events[0]).toMatchObject({ type: 'start', resumedAt: 16 });
    expect(r.steps).toBe(32);
    expect(r.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    expect(second.weights.get('head.0.weight')!.data).toEqual(straight.weights.get('head.0.weight')!.data);
    expect(second.velocity).toEqual(straight.velocity);
  });

  it('resuming a finished run with fewer or equal epochs trains nothing and keeps the checkpoint', async () => {
    const ckpt = join(dir, 'finished');
    await train(base(new FakeBackend(), { epochs: 3, checkpoint: { dir: ckpt } }));
    const again = await train(
      base(new FakeBackend(), { epochs: 2, checkpoint: { dir: ckpt }, resume: true }),
    );
    expect(again).toMatchObject({ epochs: 3, steps: 24, stopped: 'completed' });
    const more = await train(base(new FakeBackend(), { epochs: 4, checkpoint: { dir: ckpt }, resume: true }));
    expect(more.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    expect(more.steps).toBe(32);
  });

  it('refuses to resume a checkpoint trained with another configuration', async () => {
    const ckpt = join(dir, 'other-config');
    await train(base(new FakeBackend(), { epochs: 1, checkpoint: { dir: ckpt } }));
    const changed = { ...model, config: { ...config, combine: 'cosine' as const } };
    await expect(
      train(base(new FakeBackend(), { model: changed, checkpoint: { dir: ckpt }, resume: true })),
    ).rejects.toThrow(/was trained with a different model combine \("euclidean", now "cosine"\)/);
  });

  it("refuses to resume another run's checkpoint, and resumes its own", async () => {
    const ckpt = join(dir, 'other-run');
    await train(base(new FakeBackend(), { epochs: 1, checkpoint: { dir: ckpt }, runId: 'run-a' }));
    const trainer = JSON.parse(await readFile(join(ckpt, 'last', 'trainer.json'), 'utf8'));
    expect(trainer.runId).toBe('run-a');
    await expect(
      train(base(new FakeBackend(), { epochs: 2, checkpoint: { dir: ckpt }, resume: true, runId: 'run-b' })),
    ).rejects.toThrow(
      `the checkpoint in ${join(ckpt, 'last')} belongs to run run-a, not to this run (run-b)`,
    );
    const own = await train(
      base(new FakeBackend(), { epochs: 2, checkpoint: { dir: ckpt }, resume: true, runId: 'run-a' }),
    );
    expect(own.history).toHaveLength(2);
  });

  it('counts steps within the epoch, also after a resume', async () => {
    const events: TrainEvent[] = [];
    await train(base(new FakeBackend(), { epochs: 2, onEvent: (e) => events.push(e) }));
    const steps = events.filter((e) => e.type === 'step') as Extract<TrainEvent, { type: 'step' }>[];
    expect(steps.map((e) => e.epochStep)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(steps.at(-1)!.eta).toBe(0);
  });

  it('saves a usable checkpoint when interrupted, and resuming finishes the run', async () => {
    const ckpt = join(dir, 'interrupt');
    const controller = new AbortController();
    const events: TrainEvent[] = [];
    const r = await train(
      base(new FakeBackend(), {
        checkpoint: { dir: ckpt },
        signal: controller.signal,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'step' && e.step === 11) controller.abort();
        },
      }),
    );
    expect(r).toMatchObject({ stopped: 'interrupted', steps: 11, epochs: 1 });
    expect(events.filter((e) => e.type === 'checkpoint').at(-1)).toEqual({
      type: 'checkpoint',
      path: join(ckpt, 'last'),
      reason: 'interrupted',
    });
    const resumed = await train(base(new FakeBackend(), { checkpoint: { dir: ckpt }, resume: true }));
    expect(resumed).toMatchObject({ stopped: 'completed', epochs: 4, steps: 11 + 3 * 8 });
  });

  it('fails clearly on a diverging loss and bad options', async () => {
    await expect(train(base(new FakeBackend(3)))).rejects.toThrow(
      /the loss became NaN at step 3 \(epoch 1\); lower the learning rate/,
    );
    await expect(train(base(new FakeBackend(), { epochs: 0 }))).rejects.toThrow(TrainingError);
    await expect(
      train(base(new FakeBackend(), { lr: { lr: -1, schedule: { kind: 'constant' } } })),
    ).rejects.toThrow(/lr must be a positive number/);
  });
});

describe('learning-rate schedules', () => {
  it('warm up linearly, then follow step or cosine decay', () => {
    expect(learningRate({ lr: 1, schedule: { kind: 'constant' }, warmupSteps: 4 }, 0, 100)).toBe(0.25);
    expect(learningRate({ lr: 1, schedule: { kind: 'constant' }, warmupSteps: 4 }, 4, 100)).toBe(1);
    expect(learningRate({ lr: 1, schedule: { kind: 'step', everySteps: 10, gamma: 0.5 } }, 25, 100)).toBe(
      0.25,
    );
    const cos = { lr: 1, schedule: { kind: 'cosine', minFactor: 0.1 } } as const;
    expect(learningRate(cos, 0, 100)).toBe(1);
    expect(learningRate(cos, 50, 100)).toBeCloseTo(0.55, 12);
    expect(learningRate(cos, 100, 100)).toBeCloseTo(0.1, 12);
  });
});

describe('train refuses batches too small for BatchNorm', () => {
  it('names the layer when a batch gives one value per channel', async () => {
    const one = { train: () => batches(1, 1, 1), stepsPerEpoch: 1 };
    await expect(train(base(new FakeBackend(), { data: one, epochs: 1 }))).rejects.toThrow(
      /a batch of 1 gives BatchNorm '[^']+' one value per channel \(its input is f32\[N,\d+,1,1\]\); use batches of at least 2/,
    );
  });
});

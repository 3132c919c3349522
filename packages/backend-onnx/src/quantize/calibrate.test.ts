/** calibrate(): what it observes, how batches are fed, and the one-line errors for bad input. */
import { GraphBuilder, relu, siamese } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { exportSiameseCut } from '../export/cuts.js';
import { exportOnnx } from '../export/model.js';
import { SIZE, strokeImages, trainedLooking } from './__fixtures__/synthetic.js';
import { calibrate } from './calibrate.js';
import { viewModel } from './graph.js';
import { planQdq } from './plan.js';

const graph = siamese({
  encoder: 'resnet10_w8',
  input: { channels: 1, height: SIZE, width: SIZE },
  head: { hidden: [16] },
});
const weights = trainedLooking(graph, 5);
const encoder = exportSiameseCut(graph, weights, 'encoder');
const pair = exportSiameseCut(graph, weights, 'pair');
const batches = [strokeImages(4, 1), strokeImages(4, 2)];

describe('calibrate', () => {
  it('observes exactly the values the rewrite quantizes: the input, the Relu, Add and pool outputs', async () => {
    const r = await calibrate(encoder, batches, { threads: 1 });
    const planned = planQdq(viewModel(encoder, 'test'), 'test').calibrated;
    expect([...r.ranges.keys()]).toEqual(planned);
    expect(planned.slice(0, 3)).toEqual(['image', 'a/encoder.relu', 'a/encoder.layer1.0.relu']);
    // MaxPool and Flatten reuse their input's scale: nothing to observe.
    expect(planned.some((v) => /maxpool|embedding/.test(v))).toBe(false);
    expect(r.ranges.get('a/encoder.relu')!.min).toBe(0);
    expect(r.ranges.get('image')!.min).toBeCloseTo(-0.1307 / 0.3081, 5);
    expect(r).toMatchObject({ method: 'minmax', images: 8 });
  });

  it('takes an async generator and reports progress; the result depends only on the data', async () => {
    const seen: [number, number | undefined][] = [];
    async function* lazily() {
      for (const b of batches) yield b;
    }
    const a = await calibrate(encoder, lazily(), {
      method: 'entropy',
      threads: 1,
      onProgress: (done, total) => seen.push([done, total]),
    });
    expect(seen).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
    const progress: [number, number | undefined][] = [];
    const b = await calibrate(encoder, batches, {
      method: 'entropy',
      threads: 1,
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(progress).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(b.ranges).toEqual(a.ranges);
  });

  it('percentile keeps every value at 100 and clips below the max otherwise', async () => {
    const minmax = await calibrate(encoder, batches, { threads: 1 });
    const all = await calibrate(encoder, batches, { method: 'percentile', percentile: 100, threads: 1 });
    const some = await calibrate(encoder, batches, { method: 'percentile', percentile: 99, threads: 1 });
    for (const [name, r] of minmax.ranges) {
      expect(all.ranges.get(name)).toEqual(r);
      expect(some.ranges.get(name)!.max).toBeLessThanOrEqual(r.max);
    }
    expect([...some.ranges].filter(([n, r]) => r.max < minmax.ranges.get(n)!.max).length).toBeGreaterThan(0);
  });

  it('feeds a two-input model from { name: tensor } batches, counting pairs', async () => {
    const r = await calibrate(pair, [{ x1: batches[0]!, x2: batches[1]! }], { threads: 1 });
    expect(r.images).toBe(4);
    expect(r.ranges.has('x1x2')).toBe(true);
  });

  it('refuses bad batches and options in one line', async () => {
    await expect(calibrate(encoder, [])).rejects.toThrow(/^calibrate: no batches; pass at least one batch/);
    await expect(calibrate(pair, batches)).rejects.toThrow(
      /^calibrate: the model has inputs 'x1', 'x2'; pass each batch as \{ name: tensor \}$/,
    );
    await expect(calibrate(pair, [{ x1: batches[0]! }])).rejects.toThrow(
      /^calibrate: batch 0 feeds 'x1' but the model's inputs are 'x1', 'x2'$/,
    );
    await expect(calibrate(pair, [{ x1: batches[0]!, x2: strokeImages(3, 1) }])).rejects.toThrow(
      /^calibrate: batch 0: inputs have different batch sizes \(4 and 3\)$/,
    );
    const wrong = { dtype: 'float32' as const, shape: [1, 1, 8, 8], data: new Float32Array(64) };
    await expect(calibrate(encoder, [wrong])).rejects.toThrow(/^calibrate: batch 0 failed in onnxruntime: /);
    await expect(calibrate(encoder, batches, { method: 'mse' as 'minmax' })).rejects.toThrow(
      /^calibrate: method must be one of minmax, percentile, entropy, got 'mse'$/,
    );
    await expect(calibrate(encoder, batches, { percentile: 0 })).rejects.toThrow(
      /percentile must be in \(0, 100\]/,
    );
    await expect(calibrate(encoder, batches, { bins: 1001 })).rejects.toThrow(/bins must be an even integer/);
    const b = new GraphBuilder('plain');
    b.output('y', relu(b, b.input('x', 'float32', ['N', 4])));
    await expect(calibrate(exportOnnx(b.build(), new Map()), [])).rejects.toThrow(
      /^calibrate: nothing to quantize: the model has no Conv, Gemm or MatMul with a constant weight$/,
    );
  });
});

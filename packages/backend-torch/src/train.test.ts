/**
 * The generated training code against siamese's own: one Adam step on BCE (dropout off) from the same
 * weights and batch equals core's IR training step run by onnxruntime within 1e-4, parameters,
 * BatchNorm statistics and loss; the first step's gradients on 2 processes (synchronised BatchNorm,
 * global-batch dropout masks) equal one process's; train.py under torchrun with 2 processes (gloo,
 * CPU) leaves both ranks with identical weights (parameters and BatchNorm statistics, compared as
 * each rank holds them), written under siamese's names, while with --sync-bn off the check sees the
 * ranks' statistics differ; a second run in the same folder takes rank 0's split.json, every file
 * written atomically (no temporary file left); and train.py reads a CSV of pairs.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOnnxBackend } from '@siamese/backend-onnx';
import {
  defaultPreprocessing,
  type SiameseConfig,
  siamese,
  siameseTraining,
  type Tensor,
} from '@siamese/core';
import { afterAll, describe, expect, it } from 'vitest';
import { pytorchPackage } from './package.js';
import {
  fixture,
  HAS_TORCH,
  python,
  randomImages,
  randomWeights,
  readTensors,
  relativeError,
  writeFiles,
  writeTensors,
} from './test-util.js';

const root = mkdtempSync(join(tmpdir(), 'siamese-torch-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config: SiameseConfig = {
  encoder: 'resnet10_w8',
  input: { channels: 1, height: 16, width: 16 },
  combine: 'absdiff',
  head: { hidden: [8], dropout: 0 },
};
const inference = siamese(config);
const training = siameseTraining(config, { kind: 'bce' });

function writePackage(dir: string, weights: Map<string, Tensor>, c: SiameseConfig = config): void {
  const graph = c === config ? inference : siamese(c);
  writeFiles(
    dir,
    pytorchPackage({
      inference: graph,
      training: c === config ? training : siameseTraining(c, { kind: 'bce' }),
      preprocessing: defaultPreprocessing(c.input),
      config: {
        model: { arch: 'resnet10_w8', input: c.input, combine: c.combine },
        train: { loss: 'bce' },
      },
      weights,
      source: 'a test',
    }),
  );
}

/** `python -m torch.distributed.run` with what Debian's torch 1.13 needs, on a port of this run's. */
function torchrun(processes: number, args: readonly string[]): string {
  return python(
    [
      '-m',
      'torch.distributed.run',
      // torch 1.13's torchrun on Python 3.11 cannot parse its default --redirects 0.
      ...['--redirects', '2', '--tee', '2'],
      ...['--nproc_per_node', String(processes)],
      ...['--master_port', String(29500 + (process.pid % 1000))],
      ...args,
    ],
    // Two processes importing torch on a loaded 2-core CI machine take minutes, not seconds.
    { cwd: root, timeout: 420_000 },
  );
}

describe.skipIf(!HAS_TORCH)('generated training code (skipped without /usr/bin/python3 and torch)', () => {
  it('one Adam step equals the IR training step on onnxruntime within 1e-4', async () => {
    const weights = randomWeights(inference, 5);
    const dir = join(root, 'step');
    writePackage(dir, weights);
    const labels: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [6, 1],
      data: Float32Array.of(1, 0, 1, 0, 1, 0),
    };
    const inputs = { x1: randomImages(6, 1, 16, 16, 1), x2: randomImages(6, 1, 16, 16, 2, 0.5), labels };
    writeTensors(join(dir, 'batch.safetensors'), new Map(Object.entries(inputs)));
    const lr = 0.01;
    python([
      fixture('step.py'),
      JSON.stringify({
        package: dir,
        weights: join(dir, 'weights.safetensors'),
        batch: join(dir, 'batch.safetensors'),
        optimizer: 'adam',
        lr,
        out: join(dir, 'after.safetensors'),
      }),
    ]);
    const torch = readTensors(readFileSync(join(dir, 'after.safetensors')));
    const onnx = await createOnnxBackend({
      graph: training,
      weights,
      seed: 1,
      optimizer: { kind: 'adam' },
      device: 'cpu',
    });
    try {
      const { loss } = await onnx.step({ inputs, size: 6 }, lr);
      const after = await onnx.readWeights();
      const lossError = Math.abs(loss - (torch.get('__loss')!.data[0] as number));
      let worst = { name: '', error: 0 };
      for (const [name, t] of after) {
        const mine = torch.get(name);
        expect(mine, name).toBeDefined();
        if (t.dtype === 'int64') {
          expect(mine!.data[0], name).toBe(t.data[0]);
          continue;
        }
        const error = relativeError(mine!.data as Float32Array, t.data as Float32Array);
        if (error > worst.error) worst = { name, error };
      }
      console.log(`one Adam step: loss difference ${lossError}, worst tensor ${worst.name} ${worst.error}`);
      expect(lossError).toBeLessThan(1e-4);
      expect(worst.error, worst.name).toBeLessThan(1e-4);
    } finally {
      await onnx.dispose();
    }
  });

  it('torchrun --nproc_per_node 2 (gloo) leaves both ranks with identical weights', () => {
    const dir = join(root, 'ddp');
    writePackage(dir, randomWeights(inference, 6));
    python([fixture('images.py'), join(root, 'images'), '3', '20']);
    const run = join(root, 'run');
    const output = torchrun(2, [
      join(dir, 'train.py'),
      ...['--data', join(root, 'images'), '--out', run, '--batch-size', '8', '--epochs', '1'],
      ...['--pairs-per-epoch', '32', '--val-pairs', '16', '--save-ranks'],
    ]);
    expect(output).toMatch(/ranks: 2 hold identical weights \(largest difference 0\)/);
    const [a, b] = [0, 1].map((r) => readFileSync(join(run, `rank-${r}.safetensors`)));
    expect(Buffer.compare(a!, b!)).toBe(0);
    const best = readTensors(readFileSync(join(run, 'weights.safetensors')));
    expect([...best.keys()].sort()).toEqual(inference.params.map((p) => p.name).sort());
    const splitText = readFileSync(join(run, 'split.json'), 'utf8');
    expect((JSON.parse(splitText) as { format: string }).format).toBe('siamese-split');
    const settings = JSON.parse(readFileSync(join(run, 'siamese.config.json'), 'utf8'));
    expect(settings.data).toEqual({ source: join(root, 'images'), split: 'split.json' });

    // Again in the same folder, each process normalising its share alone: rank 0 reads the split
    // it wrote and sends it to rank 1, and the check sees the BatchNorm statistics part.
    const apart = torchrun(2, [
      join(dir, 'train.py'),
      ...['--data', join(root, 'images'), '--out', run, '--batch-size', '8', '--epochs', '1'],
      ...['--pairs-per-epoch', '32', '--val-pairs', '16', '--sync-bn', 'off'],
    ]);
    const parted =
      /ranks: 2 hold different weights: parameters differ by up to 0, buffers \(BatchNorm statistics\) by up to ([\d.e+-]+)/.exec(
        apart,
      );
    expect(parted, apart).not.toBeNull();
    expect(Number(parted![1])).toBeGreaterThan(0);
    expect(readFileSync(join(run, 'split.json'), 'utf8')).toBe(splitText);
    expect(readdirSync(run).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it("the first step's gradients on 2 processes equal 1 process's (BatchNorm and dropout over the whole batch)", () => {
    const withDropout: SiameseConfig = { ...config, head: { hidden: [8], dropout: 0.5 } };
    const dir = join(root, 'first-step');
    writePackage(dir, randomWeights(siamese(withDropout), 7), withDropout);
    const grads = [1, 2].map((processes) => {
      const out = join(dir, `grads-${processes}.safetensors`);
      const job = { package: dir, batch: 8, syncBn: true, out };
      torchrun(processes, [fixture('first_step.py'), JSON.stringify(job)]);
      return readTensors(readFileSync(out));
    });
    let worst = { name: '', error: 0 };
    for (const [name, one] of grads[0]!) {
      const error = relativeError(grads[1]!.get(name)!.data as Float32Array, one.data as Float32Array);
      if (error > worst.error) worst = { name, error };
    }
    console.log(`first step, 2 processes vs 1: worst gradient or statistic ${worst.name} ${worst.error}`);
    expect(grads[0]!.size).toBeGreaterThan(40);
    expect(worst.error, worst.name).toBeLessThan(1e-5);
  });

  it('trains on a CSV of pairs (one process)', () => {
    const dir = join(root, 'csv');
    writePackage(dir, randomWeights(inference, 8));
    const csv = new URL('../../datasets/src/__fixtures__/pairs/pairs.csv', import.meta.url).pathname;
    const run = join(root, 'csv-run');
    const output = python(
      [
        join(dir, 'train.py'),
        ...['--data', csv, '--val-data', csv],
        ...['--out', run, '--batch-size', '2', '--epochs', '1'],
      ],
      { cwd: root },
    );
    expect(output).toMatch(/: 6 training images, 1 process\(es\) on cpu .* 2 steps of 2 pairs/);
    expect(output).toMatch(/epoch 1: step 2, train loss \d\.\d{4}, val loss \d\.\d{4}, val AUC/);
    const best = readTensors(readFileSync(join(run, 'weights.safetensors')));
    expect([...best.keys()].sort()).toEqual(inference.params.map((p) => p.name).sort());
  });
});

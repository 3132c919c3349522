/**
 * `siamese train --init`, `--freeze-encoder-epochs`, `--encoder-lr-factor` end to end (the real
 * binary on MNIST digits), and the flags' errors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initWeights, loadWeights, RESNET_PRESETS, resnet, saveWeights } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistDigits } from '../infer/data.js';
import { siameseCli, tempDir } from '../test/cli.js';
import { looksLikeSafetensors } from './init.js';

const QUICK = [
  '--arch',
  'resnet10_w8',
  '--pairs-per-epoch',
  '128',
  '--val-pairs',
  '100',
  '--batch-size',
  '16',
];
let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await tempDir('siamese-init-');
});
afterAll(() => dir.remove());

const epochs = (out: string) =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'epoch');

describe('mnist:DIGITS', () => {
  it('takes digits and ranges, and names a bad part', () => {
    expect(mnistDigits('mnist:0-4')).toEqual([0, 1, 2, 3, 4]);
    expect(mnistDigits('mnist:7,1,3-4')).toEqual([1, 3, 4, 7]);
    expect(() => mnistDigits('mnist:5-2')).toThrow(
      "data 'mnist:5-2': '5-2' is not a digit or a range of digits (e.g. mnist:0-4 or mnist:1,3,5-7)",
    );
  });
});

describe('telling safetensors from a PyTorch file', () => {
  it('reads a safetensors header length whose first byte is 0x80 (as a pickle starts) as safetensors', async () => {
    const path = join(dir.path, 'x80.safetensors');
    const header = `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`.padEnd(0x80, ' ');
    const bytes = Buffer.alloc(8 + 0x80 + 4);
    bytes.writeBigUInt64LE(0x80n, 0);
    bytes.write(header, 8);
    await writeFile(path, bytes);
    expect(bytes[0]).toBe(0x80);
    expect(await looksLikeSafetensors(path, bytes.length)).toBe(true);
    const pth = join(dir.path, 'x.pth');
    await writeFile(pth, Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(await looksLikeSafetensors(pth, 12)).toBe(false);
  });
});

describe('siamese train --init', () => {
  it('fine-tunes a model folder: frozen encoder first, then everything at its own rate', async () => {
    const pre = join(dir.path, 'pre');
    const first = await siameseCli(['train', '--data', 'mnist:0-1', ...QUICK, '--epochs', '1', '--out', pre]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/data: mnist: [\d,]+ images, 2 classes/);

    const out = join(dir.path, 'ft');
    const r = await siameseCli([
      'train',
      '--data',
      'mnist:2-3',
      ...QUICK,
      '--epochs',
      '2',
      '--init',
      join(pre, 'model'),
      '--freeze-encoder-epochs',
      '1',
      '--encoder-lr-factor',
      '0.5',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /init: .*pre\/model: a model folder \(resnet10_w8, 1x28x28, combine absdiff\), a Siamese model; \d+ tensors loaded/,
    );
    expect(r.stdout).toContain(
      'frozen: the encoder (BatchNorm in eval mode) for 1 epoch; only the head trains',
    );
    expect(r.stdout).toContain(
      'unfrozen: the whole model trains for 1 more epochs, the encoder at 0.5 x --lr',
    );
    expect(epochs(out).map((e) => e.stage ?? 'main')).toEqual(['frozen', 'main']);

    // After the frozen epoch the encoder is exactly the pretrained one; the head has moved.
    const { tensors: start } = await loadWeights(join(pre, 'model/weights.safetensors'));
    const { tensors: frozen } = await loadWeights(join(out, 'checkpoints/frozen/last/weights.safetensors'));
    const { tensors: end } = await loadWeights(join(out, 'model/weights.safetensors'));
    for (const [k, t] of start) {
      if (k.startsWith('encoder.')) expect(frozen.get(k)?.data, k).toEqual(t.data);
    }
    expect(frozen.get('head.0.weight')?.data).not.toEqual(start.get('head.0.weight')?.data);
    expect(end.get('encoder.conv1.weight')?.data).not.toEqual(start.get('encoder.conv1.weight')?.data);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('encoder frozen for 1 epochs');
  }, 240_000);

  it('loads a torchvision-named RGB encoder into a grayscale model, says what it adapted and ignored', async () => {
    const g = resnet({ ...RESNET_PRESETS.resnet10_w8, inChannels: 3 }, { height: 28, width: 28 });
    const w = initWeights(g, 4);
    w.set('fc.weight', { dtype: 'float32', shape: [10, 64], data: new Float32Array(640) });
    w.set('fc.bias', { dtype: 'float32', shape: [10], data: new Float32Array(10) });
    const file = join(dir.path, 'rgb-encoder.safetensors');
    await saveWeights(file, w);
    const out = join(dir.path, 'rgb');
    const r = await siameseCli([
      'train',
      '--data',
      'mnist:0-1',
      ...QUICK,
      '--epochs',
      '1',
      '--init',
      file,
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('a safetensors file, an encoder');
    expect(r.stdout).toContain(
      'init: encoder.conv1.weight adapted from 3 input channels to 1 by summing over them (a grey image is every channel at once)',
    );
    expect(r.stdout).toContain("init: ignored fc.weight (torchvision's ImageNet classifier), fc.bias");
    expect(r.stdout).toMatch(/init: new head \(\d+ parameters, seed 1\)/);
  }, 120_000);

  it('refuses a file for another architecture before reading any data, naming the one to use', async () => {
    const g = resnet(RESNET_PRESETS.resnet18_w16, { height: 28, width: 28 });
    const file = join(dir.path, 'r18w16.safetensors');
    await saveWeights(file, initWeights(g, 1));
    const out = join(dir.path, 'wrong');
    const r = await siameseCli([
      'train',
      '--data',
      'mnist:0-1',
      ...QUICK,
      '--epochs',
      '1',
      '--init',
      file,
      '--out',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(
      /^siamese train: --init .*r18w16\.safetensors: the file's weights do not fit this model's encoder: .*the file holds a resnet18_w16 encoder; use --arch resnet18_w16$/,
    );
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('refuses a missing file before creating the output folder', async () => {
    const out = join(dir.path, 'never');
    const r = await siameseCli([
      'train',
      '--data',
      'mnist',
      '--init',
      join(dir.path, 'nope.pth'),
      '--out',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      `siamese train: --init '${join(dir.path, 'nope.pth')}': no such file or folder`,
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    [['--epochs', '2', '--freeze-encoder-epochs', '3'], '--freeze-encoder-epochs 3 is more than --epochs 2'],
    [['--encoder-lr-factor', '0'], "--encoder-lr-factor must be a positive number, got '0'"],
    [['--freeze-encoder-epochs', 'x'], "--freeze-encoder-epochs must be an integer >= 0, got 'x'"],
    [
      ['--loss', 'cosface', '--then', 'bce', '--freeze-encoder-epochs', '1'],
      '--freeze-encoder-epochs goes with one-stage training',
    ],
  ])('refuses %j', async (flags, message) => {
    const r = await siameseCli(['train', '--data', 'mnist', ...flags, '--out', join(dir.path, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain(message);
  });
});

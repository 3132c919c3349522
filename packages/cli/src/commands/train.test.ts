import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES, siameseCli, tempDir } from '../test/cli.js';

const QUICK = [
  '--data',
  'mnist',
  '--arch',
  'resnet10_w8',
  '--epochs',
  '1',
  '--pairs-per-epoch',
  '256',
  '--val-pairs',
  '200',
];
let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await tempDir('siamese-train-');
});
afterAll(() => dir.remove());

describe('siamese train', () => {
  it('trains on MNIST and writes a usable model, split, metrics and report', async () => {
    const out = join(dir.path, 'run');
    const r = await siameseCli(['train', ...QUICK, '--holdout-classes', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /data: mnist: 10,000 images, 10 classes; held out of training: 8, 9 \(1,922 images, split-openset.json\); split by image: [\d,]+ train/,
    );
    expect(r.stdout).toMatch(/test pairs: accuracy \d+\.\d\d% at threshold/);
    for (const f of [
      'model/model.json',
      'model/weights.safetensors',
      'split.json',
      'split-openset.json',
      'metrics.jsonl',
      'report.html',
      'checkpoints/last/trainer.json',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const model = JSON.parse(readFileSync(join(out, 'model/model.json'), 'utf8'));
    expect(model.threshold.method).toBe('eer');
    expect(model.metrics.testPairs).toBe(200);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['epoch', 'test']);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Hardest mistakes');
    const cmp = await siameseCli(['info', join(out, 'model')]);
    expect(cmp.code, cmp.stderr).toBe(0);
    // Provenance: the run, its command line, data and split, backend, versions.
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run).toMatchObject({
      format: 'siamese-run',
      status: 'completed',
      settings: { seed: 1, arch: 'resnet10_w8' },
    });
    expect(model.provenance).toMatchObject({
      runId: run.runId,
      seed: 1,
      commands: [['train', ...QUICK, '--holdout-classes', '2', '--out', out]],
    });
    expect(model.provenance.data.split).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(model.provenance.versions['@siamese/core']).toMatch(/^\d+\.\d+\.\d+/);
    expect(cmp.stdout).toContain(`run         ${run.runId}, trained `);
    expect(cmp.stdout).toContain(`command     siamese train ${QUICK.join(' ')}`);
    expect(cmp.stdout).toMatch(/data {8}mnist: 10,000 images.*\(split sha256:[0-9a-f]{64}\)/);
    expect(cmp.stdout).toMatch(/trained on {2}onnx.*; seed 1/);
  }, 120_000);

  it('trains with an identity loss: a classifier in the checkpoints only, a cosine model out', async () => {
    const out = join(dir.path, 'cosface');
    const r = await siameseCli([
      'train',
      ...QUICK,
      '--loss',
      'cosface',
      '--holdout-classes',
      '2',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /combine cosine, loss cosface, [\d,]+ parameters \(\+ a 8-identity classifier for training only\)/,
    );
    // One epoch is one pass over the training images, in batches of 4 images of each of 8 digits.
    expect(r.stdout).toMatch(/1 epoch of \d+ steps/);
    const model = JSON.parse(readFileSync(join(out, 'model/model.json'), 'utf8'));
    expect(model.config.combine).toBe('cosine');
    expect(model.threshold.probability).toBeGreaterThan(0);
    const { loadWeights } = await import('@siamese/core');
    const exported = [...(await loadWeights(join(out, 'model/weights.safetensors'))).tensors.keys()];
    expect(exported.filter((k) => !k.startsWith('encoder.'))).toEqual(['head.0.weight', 'head.0.bias']);
    const kept = (await loadWeights(join(out, 'checkpoints/last/weights.safetensors'))).tensors;
    expect(kept.get('classifier.weight')!.shape).toEqual([8, 8 * 8]);
    expect(r.stdout).toMatch(/test pairs: accuracy \d+\.\d\d%/);
    const cmp = await siameseCli([
      'compare',
      join(out, 'model'),
      join(FIXTURES, 'folder/circle/circle-1.png'),
      join(FIXTURES, 'folder/circle/circle-2.jpg'),
    ]);
    expect(cmp.code, cmp.stderr).toBe(0);
  }, 120_000);

  it('runs the two-stage recipe: an identity loss, then a BCE head on pairs from that encoder', async () => {
    const out = join(dir.path, 'two-stage');
    const r = await siameseCli([
      'train',
      ...QUICK,
      '--loss',
      'cosface',
      '--then',
      'bce',
      '--then-epochs',
      '1',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/then: bce on pairs for 1 epoch, from the cosface encoder, combine absdiff/);
    const model = JSON.parse(readFileSync(join(out, 'model/model.json'), 'utf8'));
    expect(model.config.combine).toBe('absdiff');
    const { loadWeights } = await import('@siamese/core');
    const stage1 = (await loadWeights(join(out, 'checkpoints/best/weights.safetensors'))).tensors;
    const stage2 = (await loadWeights(join(out, 'checkpoints/then/last/weights.safetensors'))).tensors;
    expect(stage1.has('classifier.weight')).toBe(true);
    expect(stage2.has('classifier.weight')).toBe(false);
    expect(stage2.get('head.0.weight')!.shape[0]).toBe(1023);
    const stages = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'epoch')
      .map((l) => l.stage ?? 'first');
    expect(stages).toEqual(['first', 'then']);
  }, 120_000);

  it('saves a checkpoint on Ctrl-C and resumes from it', async () => {
    const out = join(dir.path, 'interrupted');
    const args = ['train', ...QUICK, '--epochs', '3', '--pairs-per-epoch', '2000', '--out', out];
    const code = await new Promise<number | null>((done) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let sent = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (!sent && chunk.toString().includes('training on')) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 300);
        }
      });
      child.on('exit', (c) => done(c));
    });
    expect(code).toBe(130);
    const trainer = JSON.parse(readFileSync(join(out, 'checkpoints/last/trainer.json'), 'utf8'));
    expect(trainer.step).toBeGreaterThan(0);
    const resumed = await siameseCli(['train', ...args.slice(1), '--epochs', '1', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resumed at step \d+/);
  }, 120_000);

  it('reports bad input in one line with exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['train'], /--data is required/],
      [['train', '--data', 'mnist', '--arch', 'resnet19'], /--arch 'resnet19' is not a known architecture/],
      [
        ['train', '--data', 'mnist', '--loss', 'contrastive'],
        /--loss contrastive trains the embedding distance.*--combine euclidean/,
      ],
      [
        ['train', '--data', 'mnist', '--backend', 'onnx', '--device', 'wasm'],
        /--device wasm is a tfjs device; with --backend onnx use auto, gpu \(cuda\) or cpu/,
      ],
      [['train', '--data', join(dir.path, 'nope')], /no such file or folder/],
      [
        ['train', '--data', join(FIXTURES, 'folder'), '--out', join(dir.path, 'small')],
        /no class of .* has two images/,
      ],
      [['train', '--data', 'mnist', '--epochs', '0'], /--epochs must be a positive integer/],
      [
        [
          'train',
          '--data',
          'mnist',
          '--loss',
          'contrastive',
          '--combine',
          'euclidean',
          '--config',
          join(dir.path, 'hidden.json'),
        ],
        /model\.head\.hidden must be \[\] with --loss contrastive/,
      ],
      [['train', '--data', 'mnist', '--device', 'gpu', '--out', join(dir.path, 'gpu')], /gpu/i],
      [
        ['train', '--data', 'mnist', '--loss', 'cosface', '--combine', 'absdiff'],
        /--loss cosface trains embeddings compared by cosine similarity: use --combine cosine/,
      ],
      [['train', '--data', 'mnist', '--scale', '16'], /--scale is a setting of the identity losses/],
      [['train', '--data', 'mnist', '--loss', 'normface', '--margin', '0.2'], /--loss normface: .*no margin/],
      [
        ['train', '--data', 'mnist', '--loss', 'arcface', '--margin', '2'],
        /--loss arcface: .*margin is an angle in radians/,
      ],
      [
        ['train', '--data', 'mnist', '--loss', 'cosface', '--easy-margin'],
        /--easy-margin is an arcface setting/,
      ],
    ];
    await writeFile(join(dir.path, 'hidden.json'), JSON.stringify({ model: { head: { hidden: [4] } } }));
    for (const [args, message] of cases) {
      const r = await siameseCli(args, { cwd: dir.path });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(
        r.errLines.filter((l) => !l.startsWith('warning:')),
        args.join(' '),
      ).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  }, 120_000);
});

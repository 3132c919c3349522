import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copiesFolder, FIXTURES, siameseCli, tempDir } from '../test/cli.js';

/** Debian's python3 with python3-torch, not a pyenv python3 first on PATH. */
const PYTHON = '/usr/bin/python3';
const HAS_TORCH = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!HAS_TORCH && process.env.SIAMESE_REQUIRE_TORCH === '1')
  throw new Error(`${PYTHON} cannot import torch, and SIAMESE_REQUIRE_TORCH=1`);
if (!HAS_TORCH)
  console.warn(`import: skipping the torchrun round trip: ${PYTHON} cannot import torch (python3-torch)`);

describe('siamese import (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let images: string;

  beforeAll(async () => {
    tmp = await tempDir();
    // 5 classes of 20 images: train.py's split by image keeps 2 per class for validation and test.
    images = await copiesFolder(join(tmp.path, 'images'), 20);
  });
  afterAll(() => tmp.remove());

  it.skipIf(!HAS_TORCH)(
    'brings a 2-process torchrun run back as a calibrated model folder that compare and eval accept',
    async () => {
      const pkg = join(tmp.path, 'package');
      const exported = await siameseCli([
        'export',
        '--arch',
        'resnet10_w8',
        '--channels',
        '1',
        '--size',
        '28',
        '--format',
        'pytorch',
        '--out',
        pkg,
      ]);
      expect(exported.code).toBe(0);
      const run = join(tmp.path, 'run');
      const trained = spawnSync(
        PYTHON,
        [
          '-m',
          'torch.distributed.run',
          // torch 1.13's torchrun on Python 3.11 cannot parse its default --redirects 0.
          ...['--redirects', '2', '--tee', '2', '--nproc_per_node', '2'],
          ...['--master_port', String(30500 + (process.pid % 1000))],
          join(pkg, 'train.py'),
          ...['--data', images, '--out', run, '--batch-size', '4', '--epochs', '1'],
          ...['--pairs-per-epoch', '12', '--val-pairs', '8'],
        ],
        { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' } },
      );
      expect(trained.stderr).not.toMatch(/Traceback/);
      expect(trained.status).toBe(0);
      expect(trained.stdout).toMatch(/ranks: 2 hold identical weights \(largest difference 0\)/);

      const model = join(tmp.path, 'model');
      const r = await siameseCli(['import', run, '--out', model, '--val-pairs', '40']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^validation pairs: threshold 0\.\d{4} \(equal error rate\), accuracy /m);
      expect(r.stdout).toMatch(/^test pairs: accuracy \d+\.\d\d%, ROC AUC \d\.\d{4}/m);
      const m = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
      expect(m.threshold.method).toBe('eer');
      expect(m.threshold.probability).toBeGreaterThan(0);
      expect(m.threshold.probability).toBeLessThan(1);
      expect(m.provenance).toMatchObject({ trainer: 'pytorch (train.py)' });

      const a = join(images, 'circle', 'circle-1.png');
      const compared = await siameseCli(['compare', model, a, join(images, 'circle', 'circle-2.png')]);
      expect(compared.code).toBe(0);
      const evaluated = await siameseCli([
        'eval',
        model,
        '--data',
        images,
        ...['--pairs', '40', '--episodes', '2', '--gallery', '10', '--device', 'cpu'],
      ]);
      expect(evaluated.code).toBe(0);
      expect(evaluated.stdout).toMatch(/ROC AUC/);
    },
  );

  it('refuses a run trained on a CSV of pairs with one line and exit 2', async () => {
    const run = join(tmp.path, 'csv-run');
    mkdirSync(run);
    const csv = join(FIXTURES, 'pairs', 'pairs.csv');
    writeFileSync(join(run, 'siamese.config.json'), JSON.stringify({ data: { source: csv } }));
    const r = await siameseCli(['import', run, '--out', join(tmp.path, 'csv-model')]);
    expect(r.errLines).toEqual([expect.stringMatching(/trained on a CSV of pairs .*pairs\.csv/)]);
    expect(r.code).toBe(2);
  });

  it('refuses a folder that is not a run, and a missing --out', async () => {
    const notRun = await siameseCli(['import', images, '--out', join(tmp.path, 'm')]);
    expect(notRun.errLines).toEqual([expect.stringMatching(/has no siamese\.config\.json/)]);
    expect(notRun.code).toBe(2);
    const noOut = await siameseCli(['import', images]);
    expect(noOut.errLines).toEqual([expect.stringMatching(/--out MODEL is required/)]);
    expect(noOut.code).toBe(2);
  });
});

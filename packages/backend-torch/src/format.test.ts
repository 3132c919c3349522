/**
 * The generated Python is formatted: black (line length 100, Debian's python3 -m black) would
 * change nothing in any file of packages covering every combine mode, both losses the package
 * carries, grey and RGB input, and BasicBlock and Bottleneck encoders.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  COMBINE_MODES,
  type CombineMode,
  defaultPreprocessing,
  initWeights,
  type SiameseConfig,
  siamese,
  siameseTraining,
} from '@siamese/core';
import { afterAll, describe, expect, it } from 'vitest';
import { pytorchPackage } from './package.js';
import { PYTHON, writeFiles } from './test-util.js';

const HAS_BLACK = spawnSync(PYTHON, ['-m', 'black', '--version'], { stdio: 'ignore' }).status === 0;
// CI installs Debian's black and sets SIAMESE_REQUIRE_BLACK=1: there its absence fails the test.
if (!HAS_BLACK && process.env.SIAMESE_REQUIRE_BLACK === '1')
  throw new Error(`${PYTHON} -m black is missing, and SIAMESE_REQUIRE_BLACK=1`);
if (!HAS_BLACK) console.warn(`skipped: ${PYTHON} -m black is missing (apt-get install black)`);

const CASES: { arch: string; combine: CombineMode; channels: number; loss: 'bce' | 'contrastive' }[] = [
  ...COMBINE_MODES.map((combine) => ({ arch: 'resnet10_w8', combine, channels: 1, loss: 'bce' as const })),
  { arch: 'resnet10_w8', combine: 'euclidean', channels: 1, loss: 'contrastive' },
  { arch: 'resnet50', combine: 'absdiff', channels: 3, loss: 'bce' },
];
const root = mkdtempSync(join(tmpdir(), 'siamese-torch-format-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!HAS_BLACK)('generated Python', () => {
  it('is as black formats it (line length 100): black would change no file', () => {
    for (const { arch, combine, channels, loss } of CASES) {
      const config: SiameseConfig = {
        encoder: arch,
        input: { channels, height: 32, width: 32 },
        combine,
        head: { hidden: combine === 'euclidean' || combine === 'cosine' ? [] : [16] },
      };
      const inference = siamese(config);
      writeFiles(
        join(root, `${arch}-${combine}-${loss}`),
        pytorchPackage({
          inference,
          training: siameseTraining(config, loss === 'bce' ? { kind: 'bce' } : { kind: 'contrastive' }),
          preprocessing: defaultPreprocessing(config.input),
          config: { model: { arch, combine }, train: { loss } },
          weights: initWeights(inference, 1),
          source: `--arch ${arch}`,
        }),
      );
    }
    const r = spawnSync(PYTHON, ['-m', 'black', '--check', '--diff', '--line-length', '100', root], {
      encoding: 'utf8',
    });
    expect(r.stderr).toMatch(/\b(\d+) files? would be left unchanged/);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  });
});

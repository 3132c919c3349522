/**
 * End-to-end test helpers: the REAL binary (node dist/bin.js, built by the test script) in a child
 * process, tiny model folders made with core, and data folders made from datasets' fixtures.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  defaultPreprocessing,
  initWeights,
  type SiameseConfig,
  saveModel,
  siamese,
  type Threshold,
} from '@siamese/core';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = resolve(here, '../../dist/bin.js');
/** datasets' committed fixtures: real image files, an Omniglot tree, pair CSVs, broken files. */
export const FIXTURES = resolve(here, '../../../datasets/src/__fixtures__');

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stderr split into lines, without the empty last one. */
  readonly errLines: string[];
}

/** Runs `siamese ...args`; never rejects (the exit code is part of the result). */
export function siameseCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: options.cwd ?? process.cwd(),
        env: { ...process.env, ...options.env },
        encoding: 'utf8',
        maxBuffer: 16 << 20,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr, errLines: stderr.split('\n').filter((l) => l !== '') });
      },
    );
  });
}

export async function tempDir(prefix = 'siamese-cli-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export const INPUT = { channels: 1, height: 28, width: 28 } as const;

export interface ModelOptions {
  /**
   * `default`: core's default head (Linear 64->1023, ReLU, Dropout, Linear 1023->1), random.
   * `distance`: no hidden layer, weights -0.1 and bias 2: logit = 2 - 0.1 * L1(ea, eb), so an
   * image scores highest against itself and identical images score exactly sigmoid(2).
   */
  readonly head?: 'default' | 'distance';
  readonly threshold?: Threshold | null;
  readonly seed?: number;
}

/** A tiny model folder (resnet10_w8, grayscale 28x28), as training would save it. */
export async function makeModel(dir: string, o: ModelOptions = {}): Promise<string> {
  const config: SiameseConfig = {
    encoder: 'resnet10_w8',
    input: INPUT,
    ...(o.head === 'distance' ? { head: { hidden: [] } } : {}),
  };
  const graph = siamese(config);
  const weights = initWeights(graph, o.seed ?? 1);
  if (o.head === 'distance') {
    (weights.get('head.0.weight')!.data as Float32Array).fill(-0.1);
    (weights.get('head.0.bias')!.data as Float32Array).fill(2);
  }
  const threshold = o.threshold === undefined ? { probability: 0.5, method: 'eer' as const } : o.threshold;
  await saveModel(dir, {
    graph,
    config,
    weights,
    preprocessing: defaultPreprocessing(INPUT),
    ...(threshold ? { threshold } : {}),
    metrics: { rocAuc: 0.75 },
  });
  return dir;
}

/**
 * A class folder whose classes hold copies of one image each: with the distance head, same-class
 * pairs score exactly the maximum, so every metric is perfect (AUC 1, EER 0, P@1 1, N-way 1).
 */
export async function copiesFolder(dir: string, copies = 3): Promise<string> {
  const sources = {
    circle: 'folder/circle/circle-1.png',
    square: 'folder/square/square-1.gif',
    triangle: 'folder/triangle/triangle-3.png',
    ann: 'pairs/people/ann/1.png',
    bob: 'pairs/people/bob/1.png',
  };
  for (const [cls, file] of Object.entries(sources)) {
    await mkdir(join(dir, cls), { recursive: true });
    const ext = file.slice(file.lastIndexOf('.'));
    for (let k = 1; k <= copies; k++)
      await copyFile(join(FIXTURES, file), join(dir, cls, `${cls}-${k}${ext}`));
  }
  return dir;
}

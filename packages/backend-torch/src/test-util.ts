/** Test helpers: Debian's system Python with PyTorch, generated packages in temp folders. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  decodeSafetensors,
  encodeSafetensors,
  type Graph,
  initWeights,
  Random,
  type Tensor,
} from '@siamese/core';

/** The Python that has torch (Debian's python3-torch), not a pyenv python3 first on PATH. */
export const PYTHON = '/usr/bin/python3';

export const HAS_TORCH =
  spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 120_000 }).status === 0;
export const NO_TORCH_REASON = `skipped: ${PYTHON} cannot import torch (apt-get install python3-torch python3-torchvision)`;
// Where torch must be there (CI sets SIAMESE_REQUIRE_TORCH=1 once it has it), its absence fails the
// tests instead of skipping them.
if (!HAS_TORCH && process.env.SIAMESE_REQUIRE_TORCH === '1')
  throw new Error(`${PYTHON} cannot import torch, and SIAMESE_REQUIRE_TORCH=1`);

export function fixture(name: string): string {
  return new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
}

/** Runs the system Python; throws with its output when it fails. */
export function python(args: readonly string[], o: { cwd?: string; timeout?: number } = {}): string {
  const r = spawnSync(PYTHON, args, {
    encoding: 'utf8',
    cwd: o.cwd,
    timeout: o.timeout ?? 170_000,
    env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (r.status !== 0)
    throw new Error(`python ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function writeFiles(dir: string, files: ReadonlyMap<string, string | Uint8Array>): void {
  for (const [name, content] of files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
}

/** Seeded weights with BatchNorm statistics and affine parameters moved off their 1/0 start. */
export function randomWeights(graph: Graph, seed: number): Map<string, Tensor> {
  const w = initWeights(graph, seed);
  const r = new Random(seed + 1);
  for (const [name, t] of w) {
    if (t.dtype !== 'float32') continue;
    const data = t.data as Float32Array;
    const draw = name.endsWith('running_var')
      ? () => 0.5 + r.uniform()
      : name.endsWith('running_mean') || (name.includes('bn') && name.endsWith('bias'))
        ? () => 0.2 * (r.uniform() - 0.5)
        : /\.(bn\d|downsample\.1)\.weight$/.test(name)
          ? () => 0.5 + r.uniform()
          : undefined;
    if (draw) for (let i = 0; i < data.length; i++) data[i] = draw();
  }
  return w;
}

/** Uniform in [offset - 1, offset + 1]. */
export function randomImages(
  n: number,
  c: number,
  h: number,
  w: number,
  seed: number,
  offset = 0,
): Tensor<'float32'> {
  const r = new Random(seed);
  const data = Float32Array.from({ length: n * c * h * w }, () => offset + 2 * r.uniform() - 1);
  return { dtype: 'float32', shape: [n, c, h, w], data };
}

export function writeTensors(path: string, tensors: ReadonlyMap<string, Tensor>): void {
  writeFileSync(path, encodeSafetensors(new Map(tensors)));
}

export function readTensors(bytes: Uint8Array): Map<string, Tensor> {
  return decodeSafetensors(bytes).tensors;
}

/**
 * The error relative to the output's scale: max |a - b| / max(max |b|, 1). Outputs of magnitude
 * below 1 (a logit near 0, itself a difference of larger terms) are compared absolutely, as
 * numpy.allclose's atol does.
 */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(Number(a[i]) - Number(b[i])));
    scale = Math.max(scale, Math.abs(Number(b[i])));
  }
  return diff / scale;
}

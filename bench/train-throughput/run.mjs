#!/usr/bin/env node
// Training throughput, side by side in one run: @siamese/backend-tfjs and the PyTorch reference on
// the same model (ResNet-18 Siamese, 1x105x105, batch 16 pairs, BCE, Adam lr 1e-3), the same
// weights and inputs. Each side runs in its own process (so peak RSS is its own), one after the
// other. Needs the built packages and Debian's python3-torch:
//   pnpm --filter @siamese/backend-tfjs build && node bench/train-throughput/run.mjs [--device auto]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initWeights, Random, saveWeights, siameseTraining } from '../../packages/core/dist/index.js';
import { table } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    device: { type: 'string', default: 'auto' },
    arch: { type: 'string', default: 'resnet18' },
    size: { type: 'string', default: '105' },
    batch: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    steps: { type: 'string', default: '3' },
  },
});
const PYTHON = '/usr/bin/python3';
const size = Number(args.size);
const n = Number(args.batch);
const timing = ['--warmup', args.warmup, '--runs', args.runs, '--steps', args.steps];

const dir = mkdtempSync(join(tmpdir(), 'siamese-train-bench-'));
try {
  const config = { encoder: args.arch, input: { channels: 1, height: size, width: size } };
  await saveWeights(join(dir, 'w.safetensors'), initWeights(siameseTraining(config, { kind: 'bce' }), 7));
  const r = new Random(11);
  const image = () => Float32Array.from({ length: n * size * size }, () => r.normal());
  const shape = [n, 1, size, size];
  await saveWeights(join(dir, 'in.safetensors'), [
    ['x1', { dtype: 'float32', shape, data: image() }],
    ['x2', { dtype: 'float32', shape, data: image() }],
    ['labels', { dtype: 'float32', shape: [n, 1], data: Float32Array.from({ length: n }, (_, i) => i % 2) }],
  ]);
  const files = ['--weights', join(dir, 'w.safetensors'), '--inputs', join(dir, 'in.safetensors')];
  const last = (out) => JSON.parse(out.trim().split('\n').at(-1));
  const run = (cmd, argv) =>
    last(execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const here = (f) => new URL(f, import.meta.url).pathname;
  const tfjs = run(process.execPath, [
    here('./tfjs.mjs'),
    ...files,
    '--arch',
    args.arch,
    '--size',
    args.size,
    '--device',
    args.device,
    ...timing,
  ]);
  const torch = run(PYTHON, [here('./torch_ref.py'), ...files, '--arch', args.arch, ...timing]);
  console.log(
    `${args.arch} Siamese, 1x${size}x${size}, batch ${n} pairs, Adam; median of ${args.runs} runs x ${args.steps} steps after ${args.warmup} warm-up steps`,
  );
  console.log(`tfjs: ${tfjs.device}`);
  console.log(`torch ${torch.torch}, ${torch.threads} threads`);
  console.log(
    table([
      ['', 'pairs/s', 'peak RSS MiB', 'eval loss (same weights)'],
      ['tfjs', tfjs.pairsPerSecond.toFixed(2), tfjs.peakRssMb.toFixed(0), tfjs.evalLoss.toFixed(5)],
      ['PyTorch', torch.pairsPerSecond.toFixed(2), torch.peakRssMb.toFixed(0), torch.evalLoss.toFixed(5)],
      [
        'tfjs/PyTorch',
        (tfjs.pairsPerSecond / torch.pairsPerSecond).toFixed(3),
        (tfjs.peakRssMb / torch.peakRssMb).toFixed(2),
        '',
      ],
    ]),
  );
  if (Math.abs(tfjs.evalLoss - torch.evalLoss) > 1e-3 * Math.max(1, Math.abs(torch.evalLoss))) {
    console.error(`eval losses differ: tfjs ${tfjs.evalLoss}, torch ${torch.evalLoss}: not the same model`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

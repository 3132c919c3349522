#!/usr/bin/env node
// Training throughput, side by side in one run: PyTorch (CPU), @siamese/backend-onnx (the IR's
// training-step graph in onnxruntime) and @siamese/backend-tfjs (whatever tfjs platform loads) on
// the same Siamese model, weights and inputs (BCE, Adam lr 1e-3). Each side of each configuration
// runs in its own process, so peak RSS is its own; every side gets the same thread count.
//   pnpm build && node bench/train-throughput/run.mjs
//   node bench/train-throughput/run.mjs --configs resnet18:105:16 --sides torch,onnx
// A configuration is arch:size:batch[:channels] (channels default 1).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { table } from '../lib/stats.mjs';
import { writeTrainFixture } from './fixture.mjs';

const { values: args } = parseArgs({
  options: {
    configs: { type: 'string', default: 'resnet18:105:8,resnet18:105:16,resnet50:224:8:3' },
    sides: { type: 'string', default: 'torch,onnx,tfjs' },
    device: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: String(availableParallelism()) },
    warmup: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    steps: { type: 'string', default: '3' },
    // tfjs is 5-50x slower: fewer timed steps keep the run short.
    'tfjs-steps': { type: 'string', default: '1' },
  },
});
const PYTHON = '/usr/bin/python3';
const sides = args.sides.split(',');
const here = (f) => new URL(f, import.meta.url).pathname;
const last = (out) => JSON.parse(out.trim().split('\n').at(-1));
/** One side's JSON line, or { error } with the line that explains a failed run (e.g. out of wasm memory). */
const run = (cmd, argv) => {
  try {
    return last(
      execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 }),
    );
  } catch (e) {
    const lines = String(e.stderr ?? e.message)
      .split('\n')
      .filter((l) => /error/i.test(l) && !/^\s+at /.test(l));
    return { error: lines[0]?.trim() ?? `exit code ${e.status}` };
  }
};

async function measure(spec) {
  const [arch, sizeText, batchText, channelsText = '1'] = spec.split(':');
  const [size, n, channels] = [Number(sizeText), Number(batchText), Number(channelsText)];
  const dir = mkdtempSync(join(tmpdir(), 'siamese-train-bench-'));
  try {
    const files = await writeTrainFixture(dir, { arch, size, batch: n, channels });
    const common = ['--weights', files.weights, '--inputs', files.inputs, '--arch', arch];
    const timing = (steps) => ['--warmup', args.warmup, '--runs', args.runs, '--steps', steps];
    const js = [
      '--size',
      String(size),
      '--channels',
      String(channels),
      '--device',
      args.device,
      '--threads',
      args.threads,
    ];
    const results = {};
    if (sides.includes('torch'))
      results.PyTorch = run(PYTHON, [
        here('./torch_ref.py'),
        ...common,
        '--threads',
        args.threads,
        ...timing(args.steps),
      ]);
    if (sides.includes('onnx'))
      results['backend-onnx'] = run(process.execPath, [
        here('./side.mjs'),
        '--backend',
        'onnx',
        ...common,
        ...js,
        ...timing(args.steps),
      ]);
    if (sides.includes('tfjs'))
      results['backend-tfjs'] = run(process.execPath, [
        here('./side.mjs'),
        '--backend',
        'tfjs',
        ...common,
        ...js,
        '--warmup',
        '1',
        '--runs',
        args.runs,
        '--steps',
        args['tfjs-steps'],
      ]);
    const torch = results.PyTorch?.error ? undefined : results.PyTorch;
    console.log(
      `\n${arch} Siamese, ${channels}x${size}x${size}, batch ${n} pairs, Adam, ${args.threads} threads each`,
    );
    for (const [k, v] of Object.entries(results)) if (v.device) console.log(`  ${k}: ${v.device}`);
    if (torch) console.log(`  PyTorch ${torch.torch}, ${torch.threads} threads`);
    const rows = [['', 'pairs/s', 'x PyTorch', 'peak RSS MiB', 'eval loss (same weights)']];
    for (const [k, v] of Object.entries(results)) {
      if (v.error) {
        rows.push([k, 'failed', '', '', v.error]);
        continue;
      }
      rows.push([
        k,
        v.pairsPerSecond.toFixed(2),
        torch ? (v.pairsPerSecond / torch.pairsPerSecond).toFixed(3) : '',
        v.peakRssMb.toFixed(0),
        v.evalLoss.toFixed(5),
      ]);
    }
    console.log(table(rows));
    for (const [k, v] of Object.entries(results)) {
      if (v.error) continue;
      if (torch && Math.abs(v.evalLoss - torch.evalLoss) > 1e-3 * Math.max(1, Math.abs(torch.evalLoss))) {
        console.error(
          `eval losses differ: ${k} ${v.evalLoss}, PyTorch ${torch.evalLoss}: not the same model`,
        );
        process.exitCode = 1;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `median pairs/s of ${args.runs} runs x ${args.steps} steps after ${args.warmup} warm-up steps (tfjs: ${args['tfjs-steps']} step per run)`,
);
for (const spec of args.configs.split(',')) await measure(spec);

#!/usr/bin/env node
// Beyond one machine, on one machine: export the demo model (resnet18_w16, 1x28 MNIST digits) as a
// PyTorch package, train it with torchrun on 2 processes (gloo, CPU) and on 1 process for the same
// steps, check the two ranks hold identical weights, bring both results back with `siamese import`
// (threshold calibrated on the validation part) and compare their held-out test accuracy.
//
//   pnpm build && node examples/distributed-digits.mjs [--steps 1000] [--seeds 1] [--first-seed 1] [--out runs/distributed]
//
// With --seeds N both sides train N times (seeds 1..N: the split, batches and dropout change; the
// start weights are the exported ones) and the mean accuracies are compared: one run's accuracy
// moves by about a point with float rounding alone at a few hundred steps (1 process on 1 and on
// 2 threads), so the mean is the fair test there.
//
// Needs Debian's python3-torch (/usr/bin/python3) and the built CLI.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/distributed' },
    steps: { type: 'string', default: '1000' },
    seeds: { type: 'string', default: '1' },
    'first-seed': { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'packages/cli/dist/bin.js');
const out = resolve(args.out);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;

function run(title, command, commandArgs, env = {}) {
  console.log(`\n== ${title} [${elapsed()}]\n$ ${[command, ...commandArgs].join(' ')}`);
  const r = spawnSync(command, commandArgs, {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', ...env },
  });
  process.stdout.write(r.stdout ?? '');
  if (r.status !== 0) {
    console.error(`distributed-digits: '${title}' failed (exit code ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
  return r.stdout;
}

rmSync(out, { recursive: true, force: true });
const pkg = join(out, 'package');
const digits = join(out, 'digits');
run('the bundled MNIST digits as an image folder', process.execPath, [
  join(root, 'tools/mnist-folder.mjs'),
  '--out',
  digits,
]);
run('export the demo model as a PyTorch package', process.execPath, [
  bin,
  'export',
  '--arch',
  'resnet18_w16',
  '--channels',
  '1',
  '--size',
  '28',
  '--format',
  'pytorch',
  '--out',
  pkg,
]);

function train(processes, seed) {
  const dir = join(out, `run-${processes}-seed${seed}`);
  // torch 1.13's torchrun on Python 3.11 fails to parse its default --redirects 0: name one.
  run(`train on ${processes} process(es), gloo on CPU, seed ${seed}`, args.python, [
    '-m',
    'torch.distributed.run',
    '--redirects',
    '2',
    '--tee',
    '2',
    '--nproc_per_node',
    String(processes),
    join(pkg, 'train.py'),
    '--data',
    digits,
    '--out',
    dir,
    '--batch-size',
    '32',
    '--lr',
    '0.003',
    '--epochs',
    '100',
    '--pairs-per-epoch',
    '3200',
    '--max-steps',
    args.steps,
    '--seed',
    String(seed),
    '--save-ranks',
  ]);
  const model = join(dir, 'model');
  const text = run(`import the ${processes}-process result (seed ${seed})`, process.execPath, [
    bin,
    'import',
    dir,
    '--out',
    model,
  ]);
  const m = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
  return { dir, accuracy: m.metrics.testAccuracy, auc: m.metrics.testAuc, text };
}

const pct = (v) => `${(v * 100).toFixed(2)}%`;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => i + Number(args['first-seed']));
const results = [];
for (const seed of seeds) {
  const two = train(2, seed);
  const ranks = JSON.parse(readFileSync(join(two.dir, 'checkpoint.json'), 'utf8')).rankDifference;
  const [r0, r1] = [0, 1].map((r) => readFileSync(join(two.dir, `rank-${r}.safetensors`)));
  const identical = Buffer.compare(r0, r1) === 0;
  const one = train(1, seed);
  results.push({ seed, one, two, identical, ranks });
}
console.log(`\n== result [${elapsed()}]`);
for (const { seed, one, two, identical, ranks } of results)
  console.log(
    `seed ${seed}: 1 process ${pct(one.accuracy)} (AUC ${one.auc.toFixed(4)}), 2 processes ${pct(two.accuracy)} (AUC ${two.auc.toFixed(4)}); ranks identical ${identical} (largest difference ${ranks})`,
  );
const oneMean = mean(results.map((r) => r.one.accuracy));
const twoMean = mean(results.map((r) => r.two.accuracy));
const diff = Math.abs(twoMean - oneMean) * 100;
const allIdentical = results.every((r) => r.identical);
console.log(
  `held-out test accuracy${seeds.length > 1 ? `, mean of ${seeds.length} seeds` : ''}: 1 process ${pct(oneMean)}, 2 processes ${pct(twoMean)}`,
);
console.log(`difference: ${diff.toFixed(2)} points (${diff <= 0.5 ? 'within' : 'NOT within'} 0.5)`);
process.exit(allIdentical && diff <= 0.5 ? 0 : 1);

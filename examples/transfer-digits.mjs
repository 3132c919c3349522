#!/usr/bin/env node
// Transfer learning, measured: pretrain on MNIST digits 0-4, then fine-tune on digits 5-9 with
// `siamese train --init`, against the same model trained on 5-9 from scratch. Prints how many
// steps the fine-tuned model needs to reach the from-scratch model's best validation AUC.
//
//   node examples/transfer-digits.mjs [--out runs/transfer] [--epochs 10]
//
// About 80 s on two CPU cores. examples.test.mjs runs it and checks the fine-tuned model needs at
// most half the steps.
//
// Both 5-9 runs use the same seed, so the same split and the same validation pairs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/transfer' },
    epochs: { type: 'string', default: '10' },
  },
});
// Small epochs, so the AUC curve is measured often enough to see where each run gets.
const epochs = Number(args.epochs);
const pairsPerEpoch = 1024;
const batchSize = 32;
const common = [
  '--epochs',
  String(epochs),
  '--arch',
  'resnet18_w16',
  '--batch-size',
  String(batchSize),
  '--pairs-per-epoch',
  String(pairsPerEpoch),
  '--val-pairs',
  '2000',
  '--seed',
  '1',
  '--lr',
  '0.001',
];
const out = resolve(args.out);
const cliPackage = createRequire(import.meta.url).resolve('@siamese/cli/package.json');
const bin = join(dirname(cliPackage), JSON.parse(readFileSync(cliPackage, 'utf8')).bin.siamese);

function siamese(title, cliArgs) {
  console.log(`\n== ${title}\n$ siamese ${cliArgs.join(' ')}`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [bin, ...cliArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const lines = r.stdout.split('\n').filter((l) => /^(init|data|model|test pairs|frozen|unfrozen):/.test(l));
  for (const l of lines) console.log(`  ${l}`);
  if (r.status !== 0) {
    console.error(r.stdout);
    console.error(`transfer-digits: '${title}' failed (exit code ${r.status ?? r.signal})`);
    process.exit(1);
  }
  return (performance.now() - started) / 1000;
}

/** Validation AUC after each epoch, from the run's metrics.jsonl. */
function curve(dir) {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'epoch')
    .map((r) => r.validation.auc);
}

const stepsPerEpoch = Math.floor(pairsPerEpoch / batchSize);
const pre = join(out, 'pretrain-0-4');
const scratch = join(out, 'scratch-5-9');
const tuned = join(out, 'finetune-5-9');
const t0 = siamese('pretrain on digits 0-4', ['train', '--data', 'mnist:0-4', ...common, '--out', pre]);
const t1 = siamese('digits 5-9 from scratch', ['train', '--data', 'mnist:5-9', ...common, '--out', scratch]);
const t2 = siamese('digits 5-9 fine-tuned from the 0-4 model', [
  'train',
  '--data',
  'mnist:5-9',
  ...common,
  '--init',
  join(pre, 'model'),
  '--out',
  tuned,
]);

const a = curve(scratch);
const b = curve(tuned);
const target = Math.max(...a);
const scratchEpoch = a.indexOf(target) + 1;
const reached = b.findIndex((auc) => auc >= target) + 1;
const fmt = (v) => v.toFixed(4);
console.log('\nvalidation AUC by epoch (5-9):');
console.log(`  epoch  steps  scratch  fine-tuned`);
for (let e = 0; e < epochs; e++)
  console.log(
    `  ${String(e + 1).padStart(5)}  ${String((e + 1) * stepsPerEpoch).padStart(5)}  ${fmt(a[e])}   ${fmt(b[e])}`,
  );
const scratchSteps = scratchEpoch * stepsPerEpoch;
if (reached === 0) {
  console.log(
    `\nfine-tuned never reached the from-scratch best AUC ${fmt(target)} (its best: ${fmt(Math.max(...b))})`,
  );
} else {
  const tunedSteps = reached * stepsPerEpoch;
  console.log(
    `\nfrom scratch: best validation AUC ${fmt(target)} after ${scratchSteps} steps; fine-tuned from digits 0-4 reaches it after ${tunedSteps} steps (${(tunedSteps / scratchSteps).toFixed(2)}x the steps)`,
  );
}
console.log(`time: pretrain ${t0.toFixed(0)} s, scratch ${t1.toFixed(0)} s, fine-tune ${t2.toFixed(0)} s`);
// One machine-readable line for tests and docs.
console.log(
  `RESULT ${JSON.stringify({ target, scratchSteps, tunedSteps: reached * stepsPerEpoch, reached: reached > 0 })}`,
);

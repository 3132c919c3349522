#!/usr/bin/env node
// The main job, end to end on the bundled MNIST digits (no download): train a Siamese network on
// whatever device is here, evaluate it on held-out digits and on held-out classes, export ONNX,
// compare two sample digits, and say where the report is. Run with `pnpm demo` (builds first).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/demo' },
    epochs: { type: 'string', default: '6' },
    quick: { type: 'boolean', default: false },
  },
});
const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'packages/cli/dist/bin.js');
const out = resolve(args.out);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;

function step(title, cliArgs) {
  console.log(`\n== ${title} [${elapsed()}]\n$ siamese ${cliArgs.join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...cliArgs], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo: '${title}' failed (exit code ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

const train = [
  'train',
  '--data',
  'mnist',
  '--arch',
  'resnet18_w16',
  '--size',
  '28',
  '--channels',
  '1',
  '--epochs',
  args.quick ? '1' : args.epochs,
  '--pairs-per-epoch',
  args.quick ? '1000' : '8000',
  '--batch-size',
  '32',
  '--lr',
  '0.003',
  '--holdout-classes',
  '2',
  '--out',
  out,
];
step('train on digits 0-7 (8 and 9 are held out entirely)', train);
const model = join(out, 'model');
step('evaluate on held-out images of the trained digits', [
  'eval',
  model,
  '--data',
  'mnist',
  '--split',
  join(out, 'split.json'),
  '--part',
  'test',
]);
step('evaluate on held-out classes (digits 8 and 9, never seen in training)', [
  'eval',
  model,
  '--data',
  'mnist',
  '--split',
  join(out, 'split-openset.json'),
  '--part',
  'test',
]);
step('export ONNX (pair model: two images -> probability)', [
  'export',
  model,
  '--format',
  'onnx',
  '--cut',
  'pair',
  '--out',
  join(out, 'model.onnx'),
]);

// Two sample digits of the test part as PNG files, scored like any user's images.
const { mnist, applyManifest, readManifest, loadSharp } = await import(
  join(root, 'packages/datasets/dist/index.js')
);
const test = applyManifest(await mnist(), await readManifest(join(out, 'split.json'))).test;
const sharp = await loadSharp();
const samples = join(out, 'samples');
mkdirSync(samples, { recursive: true });
const byLabel = new Map();
for (const item of test.items) if (!byLabel.has(item.label)) byLabel.set(item.label, item);
const first = test.items[0];
const same = test.items.find((i) => i !== first && i.label === first.label);
const other = [...byLabel.values()].find((i) => i.label !== first.label);
const png = async (item) => {
  const file = join(samples, `${item.id.replaceAll('/', '-')}.png`);
  const { width, height, channels, data } = item.pixels;
  await sharp(Buffer.from(data), { raw: { width, height, channels } }).png().toFile(file);
  return file;
};
const [a, b, c] = [await png(first), await png(same), await png(other)];
step(`compare two images of the digit ${first.className}`, ['compare', model, a, b]);
step(`compare a ${first.className} with a ${other.className}`, ['compare', model, a, c]);

const metrics = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')).metrics;
console.log(`\n== done in ${elapsed()}`);
console.log(
  `held-out test pairs: accuracy ${(metrics.testAccuracy * 100).toFixed(2)}%, ROC AUC ${metrics.testAuc.toFixed(4)}`,
);
console.log(`report: ${join(out, 'report.html')}`);

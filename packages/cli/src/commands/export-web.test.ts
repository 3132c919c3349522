/// <reference lib="dom" />
/**
 * `siamese export --web` end to end in a real browser: a briefly trained model (and its int8
 * version) exported as a static folder, served from 127.0.0.1 by a static server with and without
 * cross-origin isolation, and driven in headless Chromium (Debian's `chromium`, which .ci/run
 * installs). The page's outputs are compared with onnxruntime-node's on the same tensors and with
 * `siamese compare` on the same image files; failures must show on the page.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { OnnxSiamese } from '@siamese/backend-onnx';
import { loadSharp, mnist } from '@siamese/datasets';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumPath,
  launchBrowser,
  requireBrowser,
  type StaticServer,
  serveStatic,
} from '../test/browser.js';
import { siameseCli, tempDir } from '../test/cli.js';

const chrome = chromiumPath();
requireBrowser(chrome, 'export-web.test');

let tmp: Awaited<ReturnType<typeof tempDir>>;
let model: string;
let int8: string;
let site: string;
let siteInt8: string;
let images: Record<string, string>;
let browser: Browser | undefined;
const servers: StaticServer[] = [];
let isolated: string;
let plain: string;
let isolatedInt8: string;

/** Digits from the mnist package written as real files: PNG at 28x28, resized colour PNG, JPEG, PNG with alpha. */
async function writeImages(dir: string): Promise<Record<string, string>> {
  const sharp = await loadSharp();
  const data = await mnist({ digits: [0, 1, 7], perClass: 60 });
  const pick = (digit: number, k: number) => {
    const items = data.items.filter((it) => it.className === String(digit));
    const px = items[items.length - 1 - k]?.pixels;
    if (!px) throw new Error(`no mnist digit ${digit} #${k}`);
    return sharp(Buffer.from(px.data), { raw: { width: 28, height: 28, channels: 1 } });
  };
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = {};
  const save = async (name: string, image: ReturnType<typeof pick>) => {
    files[name] = join(dir, name);
    await image.toFile(files[name]);
  };
  await save('zero-a.png', pick(0, 0));
  await save('zero-b.png', pick(0, 1).resize(56, 56).toColourspace('srgb').tint({ r: 255, g: 220, b: 120 }));
  await save('one-a.jpg', pick(1, 0).resize(70, 42, { fit: 'fill' }).jpeg({ quality: 92 }));
  await save('one-b.png', pick(1, 1).resize(42, 42).ensureAlpha(0.8));
  await save('seven-a.png', pick(7, 0));
  await save('seven-b.webp', pick(7, 1).resize(84, 84).webp({ lossless: true }));
  files['not-an-image.png'] = join(dir, 'not-an-image.png');
  await writeFile(files['not-an-image.png'], 'this is a text file with an image name\n');
  return files;
}

beforeAll(async () => {
  tmp = await tempDir('siamese-web-');
  const run = join(tmp.path, 'run');
  const trained = await siameseCli([
    'train',
    ...['--data', 'mnist', '--arch', 'resnet10_w8', '--epochs', '3', '--pairs-per-epoch', '2000'],
    ...['--lr', '0.003', '--val-pairs', '300', '--out', run],
  ]);
  expect(trained.code, trained.stderr).toBe(0);
  model = join(run, 'model');
  int8 = join(tmp.path, 'model-int8');
  const quantized = await siameseCli([
    'export',
    model,
    ...[
      '--quantize',
      'int8',
      '--calibrate',
      'mnist',
      '--calibration-images',
      '128',
      '--accept-drop',
      '--out',
      int8,
    ],
  ]);
  expect(quantized.code, quantized.stderr).toBe(0);
  site = join(tmp.path, 'site');
  siteInt8 = join(tmp.path, 'site-int8');
  for (const [m, out] of [
    [model, site],
    [int8, siteInt8],
  ] as const) {
    const r = await siameseCli(['export', m, '--web', out]);
    expect(r.code, r.stderr).toBe(0);
  }
  images = await writeImages(join(tmp.path, 'images'));
  if (!chrome) return;
  const a = await serveStatic(site);
  const b = await serveStatic(site, { isolated: false });
  const c = await serveStatic(siteInt8);
  servers.push(a, b, c);
  [isolated, plain, isolatedInt8] = [a.url, b.url, c.url];
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  await tmp?.remove();
});

/** What each page printed, for failure messages. */
const logs = new WeakMap<Page, string[]>();

/**
 * Opens the page and waits until the model is loaded or an error is shown. Waits poll on a timer:
 * a background tab gets no animation frames.
 */
async function open(url: string): Promise<Page> {
  if (!browser) throw new Error('no browser');
  const page = await browser.newPage();
  const log: string[] = [];
  logs.set(page, log);
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${(e as Error).message}`));
  await page.goto(url);
  await page.waitForFunction(
    () => 'siameseApp' in window || !(document.getElementById('error') as HTMLElement).hidden,
    { timeout: 60_000, polling: 100 },
  );
  return page;
}

async function errorText(page: Page): Promise<string> {
  return page.$eval('#error', (e) => ((e as HTMLElement).hidden ? '' : (e.textContent ?? '')));
}

/** Chooses `file` in the page's file input `selector`, as a user would. */
async function upload(page: Page, selector: string, file: string): Promise<void> {
  const input = (await page.$(selector)) as ElementHandle<HTMLInputElement> | null;
  if (!input) throw new Error(`no ${selector} on the page`);
  await input.uploadFile(file);
}

/** Drops files into the page's two slots and reads the result shown for exactly this pair. */
async function comparePage(page: Page, a: string, b: string): Promise<{ probability: number; same: string }> {
  for (const [slot, file] of [
    ['a', a],
    ['b', b],
  ] as const) {
    await upload(page, `#file-${slot}`, file);
  }
  const pair = `${basename(a)}|${basename(b)}`;
  // The result and the pair it belongs to, read in one go (a later result cannot slip in between).
  const handle = await page
    .waitForFunction(
      (p) => {
        const r = document.getElementById('result') as HTMLElement;
        const error = document.getElementById('error') as HTMLElement;
        if (!error.hidden) return { error: error.textContent ?? '' };
        return r.dataset.pair === p
          ? { probability: Number(r.dataset.probability), same: String(r.dataset.same) }
          : false;
      },
      { timeout: 60_000, polling: 100 },
      pair,
    )
    .catch(async (e: Error) => {
      const shown = await page.$eval('#result', (r) =>
        JSON.stringify({ text: r.textContent, ...(r as HTMLElement).dataset }),
      );
      throw new Error(
        `${e.message}; waiting for ${pair}, the page shows ${shown}; its log: ${logs.get(page)?.join(' | ')}`,
      );
    });
  const got = (await handle.jsonValue()) as { probability: number; same: string } | { error: string };
  if ('error' in got) throw new Error(got.error);
  return got;
}

/** The page's model on the same tensors: pair logits and embeddings. */
async function pageOutputs(page: Page, a: Float32Array, b: Float32Array, n: number) {
  return page.evaluate(
    async (a, b, n) => {
      const { model } = (window as unknown as { siameseApp: { model: import('@siamese/web').WebSiamese } })
        .siameseApp;
      const scores = await model.scoreTensors(new Float32Array(a), new Float32Array(b), n);
      const embedding = await model.embedTensors(new Float32Array(a), n);
      return { logits: scores.map((s) => s.logit), embedding: Array.from(embedding), info: model.info };
    },
    Array.from(a),
    Array.from(b),
    n,
  );
}

function randomImages(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n * 28 * 28);
  for (let i = 0; i < out.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('siamese export --web', () => {
  it('writes the page, the model with its checksums, onnxruntime-web and the isolation headers', async () => {
    expect((await readdir(site)).sort()).toEqual(
      ['_headers', 'app.js', 'app.js.map', 'index.html', 'model', 'ort', 'serve.json', 'style.css'].sort(),
    );
    const manifest = JSON.parse(await readFile(join(site, 'model/siamese-web.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'siamese-web-model',
      version: 1,
      precision: 'fp32',
      embeddingSize: 64,
    });
    const fromModel = JSON.parse(await readFile(join(model, 'model.json'), 'utf8'));
    expect(manifest.preprocessing).toEqual(fromModel.preprocessing);
    expect(manifest.threshold).toEqual(fromModel.threshold);
    for (const f of Object.values(manifest.files) as { path: string; bytes: number; sha256: string }[]) {
      const bytes = await readFile(join(site, 'model', f.path));
      expect(bytes.length).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
    expect(await readdir(join(site, 'ort'))).toContain('ort-wasm-simd-threaded.wasm');
    expect(await readFile(join(site, '_headers'), 'utf8')).toContain(
      'Cross-Origin-Embedder-Policy: require-corp',
    );
    const int8Manifest = JSON.parse(await readFile(join(siteInt8, 'model/siamese-web.json'), 'utf8'));
    const int8Model = JSON.parse(await readFile(join(int8, 'model.json'), 'utf8'));
    expect(int8Manifest.precision).toBe('int8');
    expect(int8Manifest.files.encoder.path).toBe('encoder.int8.onnx');
    expect(int8Manifest.threshold).toEqual(int8Model.quantization.threshold ?? int8Model.threshold);
  });

  it('replaces a previous web export, and refuses a folder with other files or clashing flags (exit 2, one line)', async () => {
    const again = await siameseCli(['export', model, '--web', site]);
    expect(again.code, again.stderr).toBe(0);
    const other = join(tmp.path, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'keep me');
    const refused = await siameseCli(['export', model, '--web', other]);
    expect(refused.code).toBe(2);
    expect(refused.errLines).toEqual([
      expect.stringContaining(`--web '${other}' is a folder with other files in it`),
    ]);
    expect(await readdir(other)).toEqual(['notes.txt']);
    // A site of the user's (index.html and model/, but no siamese manifest) is not a previous export.
    const userSite = join(tmp.path, 'user-site');
    await mkdir(join(userSite, 'model'), { recursive: true });
    await writeFile(join(userSite, 'index.html'), '<p>mine</p>');
    const notOurs = await siameseCli(['export', model, '--web', userSite]);
    expect(notOurs.code).toBe(2);
    expect(await readFile(join(userSite, 'index.html'), 'utf8')).toBe('<p>mine</p>');
    const clash = await siameseCli(['export', model, '--web', join(tmp.path, 'x'), '--cut', 'encoder']);
    expect(clash.code).toBe(2);
    expect(clash.errLines).toEqual([expect.stringContaining('drop --cut')]);
  });

  it.skipIf(!chrome)(
    "on the same tensors, the page's outputs equal onnxruntime-node's within 1e-4, with and without threads",
    async () => {
      const n = 6;
      const [a, b] = [randomImages(n, 1), randomImages(n, 2)];
      const node = await OnnxSiamese.load(model, { device: 'cpu' });
      const ref = await node.score(
        { dtype: 'float32', shape: [n, 1, 28, 28], data: a },
        { dtype: 'float32', shape: [n, 1, 28, 28], data: b },
      );
      const refEmbedding = await node.embed({ dtype: 'float32', shape: [n, 1, 28, 28], data: a });
      await node.dispose();
      // ?threads=2 on both: the isolated page gets them, the plain one falls back to 1 and says why.
      for (const [url, threads] of [
        [isolated, 2],
        [plain, 1],
      ] as const) {
        const page = await open(`${url}?threads=2`);
        expect(await errorText(page)).toBe('');
        const out = await pageOutputs(page, a, b, n);
        expect(out.info.runtime.executionProvider).toBe('wasm');
        expect(out.info.runtime.threads).toBe(threads);
        if (threads === 1) expect(out.info.runtime.threadsReason).toContain('not cross-origin isolated');
        expect(out.info.runtime.tried.map((t) => t.provider)).toEqual(['webgpu']);
        expect(out.info.preprocess.where).toBe('worker');
        expect(maxAbsDiff(out.logits, ref.logit)).toBeLessThan(1e-4);
        expect(maxAbsDiff(out.embedding, refEmbedding.data as Float32Array)).toBeLessThan(1e-4);
        await page.close();
      }
    },
  );

  it.skipIf(!chrome)(
    "runs the int8 model: the same tensors give onnxruntime-node's int8 outputs",
    async () => {
      const n = 6;
      const [a, b] = [randomImages(n, 3), randomImages(n, 4)];
      const node = await OnnxSiamese.load(int8, { device: 'cpu' });
      expect(node.precision).toBe('int8');
      const ref = await node.score(
        { dtype: 'float32', shape: [n, 1, 28, 28], data: a },
        { dtype: 'float32', shape: [n, 1, 28, 28], data: b },
      );
      await node.dispose();
      const page = await open(isolatedInt8);
      const out = await pageOutputs(page, a, b, n);
      expect(out.info.precision).toBe('int8');
      const diff = maxAbsDiff(out.logits, ref.logit);
      console.log(`int8 logits, page vs onnxruntime-node: max abs difference ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-3);
      await page.close();
    },
  );

  it.skipIf(!chrome)(
    "from image files, the page's probabilities are within 0.02 of siamese compare's, with the same decision",
    async () => {
      const pairs = [
        ['zero-a.png', 'zero-b.png'],
        ['one-a.jpg', 'one-b.png'],
        ['seven-a.png', 'seven-b.webp'],
        ['zero-a.png', 'one-a.jpg'],
        ['one-b.png', 'seven-b.webp'],
        ['zero-b.png', 'seven-a.png'],
      ] as const;
      const page = await open(isolated);
      const mainThread = await open(`${isolated}?worker=0`);
      const diffs: number[] = [];
      for (const [x, y] of pairs) {
        const [a, b] = [images[x] as string, images[y] as string];
        const cli = await siameseCli(['compare', model, a, b, '--json']);
        expect(cli.code, cli.stderr).toBe(0);
        const ref = JSON.parse(cli.stdout) as { probability: number; same: boolean };
        const got = await comparePage(page, a, b);
        diffs.push(Math.abs(got.probability - ref.probability));
        expect(Math.abs(got.probability - ref.probability), `${x} vs ${y}`).toBeLessThan(0.02);
        expect(got.same, `${x} vs ${y}`).toBe(String(ref.same));
        // The main-thread fallback computes the same tensor as the worker.
        expect((await comparePage(mainThread, a, b)).probability).toBe(got.probability);
      }
      console.log(
        `page vs siamese compare on ${pairs.length} image pairs: max |Δp| ${Math.max(...diffs).toFixed(4)}`,
      );
      expect(await mainThread.$eval('#runtime', (e) => e.textContent ?? '')).toContain(
        'preprocessing on the main thread: the worker was turned off',
      );
      await page.close();
      await mainThread.close();
    },
    300_000,
  );

  it.skipIf(!chrome)('enrols images on the page and finds the same digit first', async () => {
    const page = await open(isolated);
    for (const [name, file] of [
      ['zero', 'zero-a.png'],
      ['one', 'one-a.jpg'],
      ['seven', 'seven-a.png'],
    ] as const) {
      await page.$eval(
        '#enrol-name',
        (e, v) => {
          (e as HTMLInputElement).value = v;
        },
        name,
      );
      await upload(page, '#enrol-file', images[file] as string);
      await page.click('#enrol button');
      await page.waitForFunction(
        (v) => document.getElementById('gallery')?.textContent?.includes(v),
        { polling: 100 },
        name,
      );
    }
    await upload(page, '#search-file', images['seven-b.webp'] as string);
    await page.waitForFunction(() => (document.getElementById('hits')?.children.length ?? 0) === 3, {
      polling: 100,
    });
    const hits = await page.$$eval('#hits li', (els) => els.map((e) => e.textContent ?? ''));
    expect(hits[0]).toMatch(/^seven: /);
    expect(await errorText(page)).toBe('');
    await page.close();
  });

  it.skipIf(!chrome)('a file that is not an image shows an error on the page', async () => {
    const page = await open(isolated);
    await upload(page, '#file-a', images['zero-a.png'] as string);
    await upload(page, '#file-b', images['not-an-image.png'] as string);
    await page.waitForFunction(() => !(document.getElementById('error') as HTMLElement).hidden, {
      timeout: 30_000,
      polling: 100,
    });
    expect(await errorText(page)).toMatch(
      /^image B: not an image the browser can decode \(image\/png, 39 bytes\)/,
    );
    await page.close();
  });

  it.skipIf(!chrome)('a model URL that answers 404 shows an error on the page', async () => {
    const page = await open(`${isolated}?model=./model/missing.json`);
    expect(await errorText(page)).toBe(`${isolated}model/missing.json: the server answered 404 Not Found`);
    expect(await page.$eval('#status', (e) => e.textContent)).toBe('The model could not be loaded.');
    await page.close();
  });
});

#!/usr/bin/env node
// Pairs per second in a real browser against onnxruntime-node, side by side in one run: the same
// pair-cut ONNX bytes (fp32, and int8 QDQ calibrated here on random inputs), the same inputs, scored by @siamese/web (onnxruntime-web, wasm SIMD) in
// headless Chromium, with 2 threads (a cross-origin isolated page) and with 1, and by
// onnxruntime-node on the CPU with the same threads (spinning off). Rounds alternate the sides
// (node, browser, node, browser, ...) and each figure is a median; ratio = node / browser, so 2.0
// means the browser takes twice as long. Time is taken inside the page (no DevTools round trip).
// Needs the built packages (pnpm --filter @siamese/web... build) and Chromium (CHROME_PATH or
// /usr/bin/chromium):
//   node bench/web/run.mjs [--rounds 9] [--batch 8] [--calls 4] [--only demo]
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrateSiamese, exportSiameseCut, loadOrt } from '../../packages/backend-onnx/dist/index.js';
import { defaultPreprocessing, initWeights, siamese } from '../../packages/core/dist/index.js';
import { cpuSessionOptions } from '../lib/ort.mjs';
import { median, table } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    batch: { type: 'string', default: '8' },
    calls: { type: 'string', default: '4' },
    only: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const batch = Number(args.batch);
const calls = Number(args.calls);
const CONFIGS = [
  { name: 'ResNet-18 1x105', encoder: 'resnet18', input: { channels: 1, height: 105, width: 105 } },
  {
    name: 'demo (resnet18_w16 1x28)',
    encoder: 'resnet18_w16',
    input: { channels: 1, height: 28, width: 28 },
  },
].filter((c) => !args.only || c.name.toLowerCase().includes(args.only.toLowerCase()));

const webRequire = createRequire(join(import.meta.dirname, '../../packages/web/package.json'));
const { build } = webRequire('esbuild');
const puppeteer = (await import(webRequire.resolve('puppeteer-core'))).default;
const sirv = (await import(webRequire.resolve('sirv'))).default;
const chrome = process.env.CHROME_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
if (!chrome) throw new Error('bench/web: no Chromium (install chromium or set CHROME_PATH)');

// A static site: the built @siamese/web bundled for the browser, onnxruntime-web in ./ort/, the models.
const site = mkdtempSync(join(tmpdir(), 'siamese-bench-web-'));
// onnxruntime-web's entry points and files, as @siamese/web's build wrote them for its page.
const ORT = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../packages/web/dist/page/ort-files.json'), 'utf8'),
);
await build({
  entryPoints: [join(import.meta.dirname, '../../packages/web/dist/index.js')],
  outfile: join(site, 'web.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  minify: true,
  logLevel: 'silent',
  plugins: [
    {
      name: 'ort-outside',
      setup(b) {
        b.onResolve({ filter: /^onnxruntime-web(\/.*)?$/ }, (a) => ({
          path: `./ort/${ORT.entries[a.path]}`,
          external: true,
        }));
      },
    },
  ],
});
writeFileSync(
  join(site, 'index.html'),
  '<!doctype html><meta charset="utf-8"><script type="module">import * as web from "./web.js"; window.web = web;</script>',
);
const ortDir = dirname(webRequire.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
mkdirSync(join(site, 'ort'));
for (const f of ORT.files) copyFileSync(join(ortDir, f), join(site, 'ort', f));

const files = sirv(site, {
  dev: true,
  setHeaders(res) {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  },
});
const server = createServer((req, res) => files(req, res, () => res.writeHead(404).end()));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await puppeteer.launch({
  executablePath: chrome,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const ort = await loadOrt();

function inputs(n, size, seed) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n * size }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

const rows = [
  [
    'model',
    'precision',
    'threads',
    'onnxruntime-node pairs/s',
    'browser (wasm SIMD) pairs/s',
    'ratio node/browser',
  ],
];
try {
  for (const config of CONFIGS) {
    const graph = siamese({ encoder: config.encoder, input: config.input });
    const weights = initWeights(graph, 1);
    const { channels, height, width } = config.input;
    const size = channels * height * width;
    const metadata = { preprocessing: defaultPreprocessing(config.input) };
    const calibration = [0, 1].map((k) => ({
      dtype: 'float32',
      shape: [8, channels, height, width],
      data: inputs(8, size, 10 + k),
    }));
    const ranges = await calibrateSiamese({ graph, weights }, calibration);
    const models = {
      fp32: exportSiameseCut(graph, weights, 'pair', { metadata }),
      int8: exportSiameseCut(graph, weights, 'pair', { metadata, quantize: ranges }),
    };
    const [a, b] = [inputs(batch, size, 1), inputs(batch, size, 2)];
    for (const [precision, bytes] of Object.entries(models)) {
      const file = `${config.encoder}-${config.input.height}-${precision}.onnx`;
      writeFileSync(join(site, file), bytes);
      for (const threads of [2, 1]) {
        const session = await ort.InferenceSession.create(bytes, cpuSessionOptions(threads));
        const shape = [batch, channels, height, width];
        const feeds = { x1: new ort.Tensor('float32', a, shape), x2: new ort.Tensor('float32', b, shape) };
        const node = async () => {
          const t0 = performance.now();
          for (let i = 0; i < calls; i++) await session.run(feeds);
          return (performance.now() - t0) / 1000;
        };
        const page = await browser.newPage();
        await page.goto(url);
        await page.waitForFunction(() => 'web' in window, { polling: 50 });
        const report = await page.evaluate(
          async (file, threads, a, b, n) => {
            window.model = await window.web.load(new Uint8Array(await (await fetch(file)).arrayBuffer()), {
              threads,
              executionProvider: 'wasm',
            });
            window.a = new Float32Array(a);
            window.b = new Float32Array(b);
            window.n = n;
            return window.model.info.runtime;
          },
          file,
          threads,
          Array.from(a),
          Array.from(b),
          batch,
        );
        if (report.threads !== threads)
          throw new Error(`bench/web: the page runs ${report.threads} threads, not ${threads}`);
        const web = () =>
          page.evaluate(async (calls) => {
            const t0 = performance.now();
            for (let i = 0; i < calls; i++) await window.model.scoreTensors(window.a, window.b, window.n);
            return (performance.now() - t0) / 1000;
          }, calls);
        for (let i = 0; i < 2; i++) {
          await node();
          await web();
        }
        const times = { node: [], web: [] };
        for (let r = 0; r < rounds; r++) {
          // A B A B ... and B A every other round, so neither side always runs first.
          const order =
            r % 2
              ? [
                  ['web', web],
                  ['node', node],
                ]
              : [
                  ['node', node],
                  ['web', web],
                ];
          for (const [name, run] of order) times[name].push(await run());
        }
        const pairsPerSecond = (t) => (batch * calls) / median(t);
        const nodeRate = pairsPerSecond(times.node);
        const webRate = pairsPerSecond(times.web);
        rows.push([
          config.name,
          precision,
          threads,
          nodeRate.toFixed(1),
          webRate.toFixed(1),
          (nodeRate / webRate).toFixed(2),
        ]);
        console.error(
          `${config.name} ${precision}, ${threads} thread(s): node ${nodeRate.toFixed(1)}, browser ${webRate.toFixed(1)} pairs/s`,
        );
        await page.close();
        await session.release();
      }
    }
  }
} finally {
  await browser.close();
  server.close();
  rmSync(site, { recursive: true, force: true });
}
console.log(
  `\nbatch ${batch} pairs, ${calls} calls per timing, ${rounds} rounds (medians), alternating sides\n`,
);
console.log(table(rows));

/// <reference lib="dom" />
/**
 * The library in headless Chromium (see test-util.ts): loading single ONNX cuts from bytes, a web
 * folder by URL with its checksums, the execution-provider report, strict WebGPU, the gallery and
 * search, and every bad input as one clear error. Outputs are compared with onnxruntime-node.
 */
import { createHash } from 'node:crypto';
import { exportSiameseCut, OnnxSiamese } from '@siamese/backend-onnx';
import {
  defaultPreprocessing,
  initWeights,
  type ModelArtifact,
  type SiameseConfig,
  siamese,
} from '@siamese/core';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, requireBrowser, type TestSite, testSite } from './test-util.js';

const chrome = chromiumPath();
requireBrowser(chrome);

const input = { channels: 3, height: 20, width: 24 } as const;
// A distance head (logit = 2 - 0.1 * L1): an image scores highest against itself.
const config: SiameseConfig = { encoder: 'resnet10_w8', input, head: { hidden: [] } };
const graph = siamese(config);
const weights = initWeights(graph, 3);
(weights.get('head.0.weight')!.data as Float32Array).fill(-0.1);
(weights.get('head.0.bias')!.data as Float32Array).fill(2);
const preprocessing = {
  ...defaultPreprocessing(input),
  resize: 'letterbox' as const,
  padColor: [0.2, 0.4, 0.6],
};
const threshold = { probability: 0.8, method: 'eer' as const };
const artifact: ModelArtifact = {
  graph,
  config,
  weights,
  preprocessing,
  threshold,
  metrics: {},
} as ModelArtifact;
const metadata = { preprocessing, threshold };
const cuts = {
  pair: exportSiameseCut(graph, weights, 'pair', { metadata }),
  encoder: exportSiameseCut(graph, weights, 'encoder', { metadata }),
  head: exportSiameseCut(graph, weights, 'head', { metadata }),
};
const SIZE = 3 * 20 * 24;

let site: TestSite;
let page: Page;

function images(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n * SIZE }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  if (!chrome) return;
  site = await testSite();
  await site.put('pair.onnx', cuts.pair);
  await site.put('encoder.onnx', cuts.encoder);
  await site.put('head.onnx', cuts.head);
  const manifest = {
    format: 'siamese-web-model',
    version: 1,
    irVersion: 1,
    precision: 'fp32',
    preprocessing,
    threshold,
    embeddingSize: 64,
    files: {
      encoder: { path: 'encoder.onnx', bytes: cuts.encoder.length, sha256: sha(cuts.encoder) },
      head: { path: 'head.onnx', bytes: cuts.head.length, sha256: sha(cuts.head) },
    },
  };
  await site.put('model.json', JSON.stringify(manifest));
  await site.put(
    'stale.json',
    JSON.stringify({
      ...manifest,
      files: { ...manifest.files, head: { ...manifest.files.head, sha256: 'f'.repeat(64) } },
    }),
  );
  page = await site.open();
}, 120_000);
afterAll(() => site?.close());

type Web = typeof import('./index.js');

/** Runs `fn` in the page with the package as its first argument; errors come back as `{ error }`. */
function inPage<T, A extends unknown[]>(
  fn: (web: Web, ...args: A) => Promise<T>,
  ...args: A
): Promise<T | { error: string; kind?: string }> {
  return page.evaluate(
    async (source: string, ...a: unknown[]) => {
      const web = (window as unknown as { web: Web }).web;
      try {
        // The test's function, sent as text (page.evaluate cannot take a closure over Node values).
        const run = new Function(`return (${source})`)() as (web: Web, ...a: unknown[]) => Promise<unknown>;
        return await run(web, ...a);
      } catch (e) {
        return { error: (e as Error).message, kind: (e as { kind?: string }).kind };
      }
    },
    fn.toString(),
    ...args,
  ) as Promise<T | { error: string; kind?: string }>;
}

describe.skipIf(!chrome)('@siamese/web in Chromium', () => {
  it('scores with a pair cut loaded from bytes as onnxruntime-node does (1e-4), and reports the provider', async () => {
    const n = 3;
    const [a, b] = [images(n, 1), images(n, 2)];
    const node = await OnnxSiamese.fromArtifact(artifact, { device: 'cpu' });
    const shape = [n, 3, 20, 24];
    const ref = await node.score({ dtype: 'float32', shape, data: a }, { dtype: 'float32', shape, data: b });
    await node.dispose();
    const got = (await inPage(
      async (web, bytes: number[], a: number[], b: number[], n: number) => {
        const model = await web.load(new Uint8Array(bytes), { threads: 2 });
        const scores = await model.scoreTensors(new Float32Array(a), new Float32Array(b), n);
        let embedError = '';
        await model.embed(new ImageData(4, 4)).catch((e: Error) => {
          embedError = e.message;
        });
        return { scores, info: model.info, embedError };
      },
      Array.from(cuts.pair),
      Array.from(a),
      Array.from(b),
      n,
    )) as {
      scores: { logit: number; probability: number; same: boolean }[];
      info: import('./index.js').ModelInfo;
      embedError: string;
    };
    expect(got.info.layout).toBe('pair');
    expect(got.info.preprocessing).toEqual(preprocessing);
    expect(got.info.threshold).toEqual(threshold);
    expect(got.info.runtime).toMatchObject({
      executionProvider: 'wasm',
      simd: true,
      threads: 2,
      proxy: true,
    });
    expect(got.info.runtime.tried).toEqual([{ provider: 'webgpu', error: expect.stringMatching(/WebGPU/) }]);
    for (let i = 0; i < n; i++) {
      expect(Math.abs((got.scores[i]?.logit as number) - (ref.logit[i] as number))).toBeLessThan(1e-4);
      expect(got.scores[i]?.same).toBe(ref.same?.[i]);
    }
    expect(got.embedError).toBe(
      "embed needs the model's encoder, and the model bytes is a pair cut; load the folder 'siamese export MODEL --web' writes",
    );
  });

  it('loads a web folder by URL: embeddings equal onnxruntime-node, search ranks an image first against itself', async () => {
    const n = 4;
    const x = images(n, 5);
    const node = await OnnxSiamese.fromArtifact(artifact, { device: 'cpu' });
    const ref = await node.embed({ dtype: 'float32', shape: [n, 3, 20, 24], data: x });
    await node.dispose();
    const got = (await inPage(
      async (web, x: number[], n: number) => {
        const model = await web.load('./model.json');
        const e = await model.embedTensors(new Float32Array(x), n);
        const d = e.length / n;
        const gallery = new web.Gallery(d);
        for (let i = 0; i < n; i++) gallery.add(`item ${i}`, e.slice(i * d, (i + 1) * d));
        const hits = await model.searchEmbedding(e.slice(2 * d, 3 * d), gallery, { k: 2 });
        return { e: Array.from(e), hits, info: model.info };
      },
      Array.from(x),
      n,
    )) as {
      e: number[];
      hits: { id: string; probability: number; same: boolean }[];
      info: { layout: string; embeddingSize: number };
    };
    expect(got.info).toMatchObject({ layout: 'folder', embeddingSize: 64 });
    let worst = 0;
    got.e.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - ((ref.data as Float32Array)[i] as number)));
    });
    expect(worst).toBeLessThan(1e-4);
    expect(got.hits.map((h) => h.id)).toEqual(['item 2', expect.any(String)]);
    expect(got.hits[0]).toMatchObject({ probability: expect.closeTo(1 / (1 + Math.exp(-2)), 5), same: true });
  });

  it('scores images (canvas, ImageData, Blob) letterboxed with the pad colour, off the main thread', async () => {
    const got = (await inPage(async (web) => {
      const model = await web.load('./model.json');
      const canvas = new OffscreenCanvas(40, 10);
      const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
      ctx.fillStyle = 'rgb(200, 30, 30)';
      ctx.fillRect(0, 0, 40, 10);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      const data = ctx.getImageData(0, 0, 40, 10);
      const [fromCanvas, fromBlob, fromData] = await Promise.all([
        model.preprocess([canvas]),
        model.preprocess([blob]),
        model.preprocess([data]),
      ]);
      const same = await model.score(canvas, blob);
      return {
        fromCanvas: Array.from(fromCanvas),
        fromBlob: Array.from(fromBlob),
        fromData: Array.from(fromData),
        same,
        where: model.info.preprocess,
      };
    })) as {
      fromCanvas: number[];
      fromBlob: number[];
      fromData: number[];
      same: { same: boolean };
      where: { where: string };
    };
    expect(got.where).toEqual({ where: 'worker' });
    expect(got.fromBlob).toEqual(got.fromCanvas);
    expect(got.fromData).toEqual(got.fromCanvas);
    // 40x10 into 24x20: 24x6 of red in rows 7-12, the pad colour (0.2, 0.4, 0.6) above and below.
    const norm = (v: number, c: number) =>
      (v - (preprocessing.mean[c] as number)) / (preprocessing.std[c] as number);
    const at = (c: number, y: number, x: number) => got.fromCanvas[c * 480 + y * 24 + x] as number;
    expect(at(0, 0, 0)).toBeCloseTo(norm(51 / 255, 0), 4);
    expect(at(2, 19, 23)).toBeCloseTo(norm(153 / 255, 2), 4);
    expect(at(0, 10, 12)).toBeCloseTo(norm(200 / 255, 0), 4);
    expect(got.same.same).toBe(true);
  });

  it('refuses what it cannot run, each with one clear message', async () => {
    const errors = (await inPage(async (web, head: number[]) => {
      const attempt = (f: () => Promise<unknown>) =>
        f().then(
          () => 'no error',
          (e: Error & { kind?: string }) => `${e.kind}: ${e.message}`,
        );
      return {
        head: await attempt(() => web.load(new Uint8Array(head))),
        stale: await attempt(() => web.load('./stale.json')),
        missing: await attempt(() => web.load('./nope.json')),
        webgpu: await attempt(() => web.load('./model.json', { executionProvider: 'webgpu' })),
        threads: await attempt(() => web.load('./model.json', { threads: 0 })),
        notBytes: await attempt(() => web.load(42 as unknown as string)),
        gallery: await attempt(async () => new web.Gallery(4).add('x', new Float32Array(3))),
        pixels: await attempt(async () => {
          const model = await web.load('./model.json', { maxPixels: 100 });
          const canvas = (w: number, h: number) => {
            const c = new OffscreenCanvas(w, h);
            (c.getContext('2d') as OffscreenCanvasRenderingContext2D).fillRect(0, 0, w, h);
            return c;
          };
          return model.score(canvas(40, 10), canvas(5, 5));
        }),
      };
    }, Array.from(cuts.head))) as Record<string, string>;
    expect(errors.head).toBe(
      "input: the model bytes: a head cut has no image input; load the folder 'siamese export MODEL --web' writes, or a pair or encoder cut",
    );
    expect(errors.stale).toBe(
      `format: ${site.url}head.onnx: its SHA-256 does not match the manifest (a stale or altered file)`,
    );
    expect(errors.missing).toBe(`fetch: ${site.url}nope.json: the server answered 404 Not Found`);
    expect(errors.webgpu).toMatch(/^runtime: executionProvider 'webgpu': .*WebGPU/);
    expect(errors.threads).toBe('input: threads must be a positive integer, got 0');
    expect(errors.notBytes).toBe(
      'input: load: expected a URL or the bytes of a model (Uint8Array or ArrayBuffer), got number',
    );
    expect(errors.gallery).toBe("input: gallery id 'x': expected an embedding of 4 values, got 3");
    expect(errors.pixels).toBe('input: image A: 40x10 is more pixels than the limit of 100 (maxPixels)');
  });
});

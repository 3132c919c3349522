/// <reference lib="dom" />
/**
 * The WebGPU execution provider for real, without a GPU: headless Chromium with SwiftShader's
 * software Vulkan has a WebGPU adapter, so `load` picks WebGPU on 'auto' and the outputs can be
 * checked against onnxruntime-node. (Speed there means nothing; correctness and the choice do.)
 * SwiftShader compiles every shader on the CPU: about 15 s here when idle, far more on a loaded CI
 * machine, so these tests have their own time limit and log where the time went.
 */
import { calibrateSiamese, createSession, exportSiameseCut, loadOrt } from '@siamese/backend-onnx';
import { defaultPreprocessing, initWeights, siamese, type Tensor } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumPath,
  ORT,
  requireBrowser,
  SOFTWARE_WEBGPU,
  type TestSite,
  testSite,
  within,
} from './test-util.js';

/** The tests' limit, and how long a page may take before the test says where it hangs. */
const SLOW = 600_000;
const PAGE_LIMIT = 540_000;

const chrome = chromiumPath();
requireBrowser(chrome);
const input = { channels: 1, height: 16, width: 16 } as const;
const config = { encoder: 'resnet10_w8', input };
const graph = siamese(config);
const weights = initWeights(graph, 4);
const preprocessing = defaultPreprocessing(input);
const pair = exportSiameseCut(graph, weights, 'pair', { metadata: { preprocessing } });

function noise(length: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

const tensor = (data: Float32Array, n: number): Tensor<'float32'> => ({
  dtype: 'float32',
  shape: [n, 1, 16, 16],
  data,
});

/** The pair cut's logits in onnxruntime-node (CPU). */
async function nodeLogits(bytes: Uint8Array, a: Float32Array, b: Float32Array, n: number): Promise<number[]> {
  const ort = await loadOrt();
  const { session } = await createSession(bytes, { device: 'cpu', threads: 1 });
  try {
    const [x, y] = session.inputNames as [string, string];
    const feeds = {
      [x]: new ort.Tensor('float32', a, [n, 1, 16, 16]),
      [y]: new ort.Tensor('float32', b, [n, 1, 16, 16]),
    };
    const out = await session.run(feeds, ['logit']);
    return Array.from(out.logit?.data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Loads `file` on a fresh page ('auto') and scores the pairs: logits, the model's info, and where the time went. */
async function scoreOnPage(file: string, a: Float32Array, b: Float32Array, n: number) {
  const page = await site.open();
  const work = page.evaluate(
    async (file: string, a: number[], b: number[], n: number) => {
      const w = window as unknown as { web: typeof import('./index.js'); phase: string };
      const t0 = performance.now();
      w.phase = 'load';
      const model = await w.web.load(`./${file}`);
      const t1 = performance.now();
      w.phase = `the first run (load took ${(t1 - t0).toFixed(0)} ms)`;
      const scores = await model.scoreTensors(new Float32Array(a), new Float32Array(b), n);
      const ms = { load: Math.round(t1 - t0), firstRun: Math.round(performance.now() - t1) };
      return { logits: scores.map((x) => x.logit), info: model.info, ms };
    },
    file,
    Array.from(a),
    Array.from(b),
    n,
  );
  try {
    return await within(PAGE_LIMIT, site, page, work);
  } finally {
    await page.close();
  }
}

let site: TestSite;
beforeAll(async () => {
  if (!chrome) return;
  site = await testSite(SOFTWARE_WEBGPU);
  await site.put('pair.onnx', pair);
}, SLOW);
afterAll(() => site?.close());

describe.skipIf(!chrome)('@siamese/web on WebGPU (SwiftShader)', () => {
  it(
    "picks WebGPU on 'auto' when there is an adapter, and scores as onnxruntime-node does (1e-4)",
    async () => {
      const n = 2;
      const [a, b] = [noise(n * 256, 9), noise(n * 256, 10)];
      const ref = await nodeLogits(pair, a, b, n);
      const got = await scoreOnPage('pair.onnx', a, b, n);
      console.log(`WebGPU (SwiftShader): load ${got.ms.load} ms, first run ${got.ms.firstRun} ms`);
      expect(got.info.runtime).toMatchObject({ executionProvider: 'webgpu', tried: [] });
      // load's warm-up compiled the shaders (seconds here): the first comparison does not wait for them.
      expect(got.ms.firstRun).toBeLessThan(got.ms.load / 4);
      for (let i = 0; i < n; i++)
        expect(Math.abs((got.logits[i] as number) - (ref[i] as number))).toBeLessThan(1e-4);
    },
    SLOW,
  );

  it(
    'runs an int8 model on WebGPU as onnxruntime-node runs it (1e-4)',
    async () => {
      const n = 4;
      const [a, b] = [noise(n * 256, 21), noise(n * 256, 22)];
      const ranges = await calibrateSiamese({ graph, weights }, [tensor(noise(8 * 256, 23), 8)], {
        threads: 1,
      });
      const int8 = exportSiameseCut(graph, weights, 'pair', {
        quantize: ranges,
        metadata: { preprocessing },
      });
      await site.put('pair.int8.onnx', int8);
      const [ref, fp32] = [await nodeLogits(int8, a, b, n), await nodeLogits(pair, a, b, n)];
      // The int8 file really is int8: its logits are not fp32's.
      expect(Math.max(...ref.map((v, i) => Math.abs(v - (fp32[i] as number))))).toBeGreaterThan(1e-3);
      const got = await scoreOnPage('pair.int8.onnx', a, b, n);
      expect(got.info.precision).toBe('int8');
      expect(got.info.runtime.executionProvider).toBe('webgpu');
      for (let i = 0; i < n; i++)
        expect(Math.abs((got.logits[i] as number) - (ref[i] as number))).toBeLessThan(1e-4);
    },
    SLOW,
  );

  it(
    'a lost device rejects the run in flight and every later one; the next load runs on wasm and says why',
    async () => {
      const page = await site.open();
      const got = await within(
        PAGE_LIMIT,
        site,
        page,
        page.evaluate(async (ortEntry: string) => {
          const w = window as unknown as { web: typeof import('./index.js'); phase: string };
          const web = w.web;
          const outcome = (p: Promise<unknown>) =>
            p.then(
              () => 'resolved',
              (e: Error) => `${e.name}: ${e.message}`,
            );
          const x = new Float32Array(2 * 256).fill(0.5);
          w.phase = 'load';
          // No warm-up: the first run compiles the shaders, seconds on SwiftShader, and is in flight meanwhile.
          const model = await web.load('./pair.onnx', { warmup: false });
          // The same module instance as the bundle's (one URL, one module): its device is the sessions' device.
          const importUrl = new Function('u', 'return import(u)') as (
            u: string,
          ) => Promise<typeof import('onnxruntime-web')>;
          const device = (await (
            await importUrl(ortEntry)
          ).env.webgpu.device) as unknown as { destroy(): void };
          const inFlight = outcome(model.scoreTensors(x, x, 2));
          device.destroy();
          w.phase = 'the run in flight when the device was destroyed';
          const first = await inFlight;
          w.phase = 'a run after the device was lost';
          const later = await outcome(model.scoreTensors(x, x, 2));
          w.phase = 'the load after the device was lost';
          const again = await web.load('./pair.onnx');
          w.phase = 'a run on wasm';
          const scores = await again.scoreTensors(x, x, 2);
          return { first, later, runtime: again.info.runtime, scored: scores.length };
        }, `./ort/${ORT.entries['onnxruntime-web/webgpu']}`),
      );
      const lost =
        /^WebModelError: the WebGPU device was lost \(destroyed.*\): load the model again to run it on wasm/;
      expect(got.first).toMatch(lost);
      expect(got.later).toMatch(lost);
      expect(got.runtime.executionProvider).toBe('wasm');
      expect(got.runtime.tried).toEqual([
        {
          provider: 'webgpu',
          error: expect.stringMatching(/^its device was lost earlier on this page \(destroyed/),
        },
      ]);
      expect(got.scored).toBe(2);
    },
    SLOW,
  );
});

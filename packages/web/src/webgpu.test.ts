/// <reference lib="dom" />
/**
 * The WebGPU execution provider for real, without a GPU: headless Chromium with SwiftShader's
 * software Vulkan has a WebGPU adapter, so `load` picks WebGPU on 'auto' and the outputs can be
 * checked against onnxruntime-node. (Speed there means nothing; correctness and the choice do.)
 */
import { exportSiameseCut, OnnxSiamese } from '@siamese/backend-onnx';
import { defaultPreprocessing, initWeights, type ModelArtifact, siamese } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, requireBrowser, SOFTWARE_WEBGPU, type TestSite, testSite } from './test-util.js';

const chrome = chromiumPath();
requireBrowser(chrome);
const input = { channels: 1, height: 16, width: 16 } as const;
const config = { encoder: 'resnet10_w8', input };
const graph = siamese(config);
const weights = initWeights(graph, 4);
const preprocessing = defaultPreprocessing(input);
const pair = exportSiameseCut(graph, weights, 'pair', { metadata: { preprocessing } });

let site: TestSite;
beforeAll(async () => {
  if (!chrome) return;
  site = await testSite(SOFTWARE_WEBGPU);
  await site.put('pair.onnx', pair);
}, 120_000);
afterAll(() => site?.close());

describe.skipIf(!chrome)('@siamese/web on WebGPU (SwiftShader)', () => {
  it("picks WebGPU on 'auto' when there is an adapter, and scores as onnxruntime-node does (1e-4)", async () => {
    const n = 2;
    let s = 9;
    const x = Float32Array.from({ length: 2 * n * 256 }, () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return (s / 2 ** 32) * 4 - 2;
    });
    const [a, b] = [x.subarray(0, n * 256), x.subarray(n * 256)];
    const artifact = { graph, config, weights, preprocessing, metrics: {} } as unknown as ModelArtifact;
    const node = await OnnxSiamese.fromArtifact(artifact, { device: 'cpu' });
    const shape = [n, 1, 16, 16];
    const ref = await node.score({ dtype: 'float32', shape, data: a }, { dtype: 'float32', shape, data: b });
    await node.dispose();
    const page = await site.open();
    const got = await page.evaluate(
      async (a: number[], b: number[], n: number) => {
        const web = (window as unknown as { web: typeof import('./index.js') }).web;
        const model = await web.load('./pair.onnx');
        const scores = await model.scoreTensors(new Float32Array(a), new Float32Array(b), n);
        return { logits: scores.map((x) => x.logit), runtime: model.info.runtime };
      },
      Array.from(a),
      Array.from(b),
      n,
    );
    expect(got.runtime).toMatchObject({ executionProvider: 'webgpu', tried: [] });
    for (let i = 0; i < n; i++)
      expect(Math.abs((got.logits[i] as number) - (ref.logit[i] as number))).toBeLessThan(1e-4);
  });
});

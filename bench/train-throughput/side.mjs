// One side of bench/train-throughput (run by run.mjs in its own process, so its peak RSS is its
// own): the backend named by --backend trains the same model from the same weights and inputs.
//   node bench/train-throughput/side.mjs --backend onnx|tfjs --weights w.safetensors --inputs in.safetensors
// Prints one JSON line: median pairs/s over --runs timed runs of --steps steps, the eval loss
// before training (to check every side computes the same thing), peak RSS and the device used.
// --threads sets onnxruntime's intra-op threads (tfjs wasm runs single-threaded in Node).
import { parseArgs } from 'node:util';
import { loadWeights, siameseTraining } from '../../packages/core/dist/index.js';
import { median } from '../lib/stats.mjs';

const { values: a } = parseArgs({
  options: {
    backend: { type: 'string', default: 'onnx' },
    weights: { type: 'string' },
    inputs: { type: 'string' },
    arch: { type: 'string', default: 'resnet18' },
    size: { type: 'string', default: '105' },
    device: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: '' },
    channels: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    steps: { type: 'string', default: '3' },
    // Another build of backend-tfjs to time (tfjs-paths.mjs: the training path before a change).
    'tfjs-dist': { type: 'string', default: '' },
  },
});

const BACKENDS = {
  async onnx(o) {
    const { createOnnxBackend } = await import('../../packages/backend-onnx/dist/index.js');
    return createOnnxBackend({ ...o, ...(a.threads ? { threads: Number(a.threads) } : {}) });
  },
  async tfjs(o) {
    const dist = a['tfjs-dist'] ? new URL(`file://${a['tfjs-dist']}/`) : '../../packages/backend-tfjs/dist/';
    const { createTfjsBackend } = await import(new URL('index.js', new URL(dist, import.meta.url)).href);
    return createTfjsBackend(o);
  },
};
if (!BACKENDS[a.backend]) throw new Error(`--backend must be one of ${Object.keys(BACKENDS).join(', ')}`);

const size = Number(a.size);
const config = { encoder: a.arch, input: { channels: Number(a.channels), height: size, width: size } };
const graph = siameseTraining(config, { kind: 'bce' });
const weights = (await loadWeights(a.weights)).tensors;
const inputs = (await loadWeights(a.inputs)).tensors;
const batch = { inputs: Object.fromEntries(inputs), size: inputs.get('labels').shape[0] };
const backend = await BACKENDS[a.backend]({ graph, weights, device: a.device, optimizer: { kind: 'adam' } });
const evalLoss = (await backend.evaluate(batch)).loss;
for (let i = 0; i < Number(a.warmup); i++) await backend.step(batch, 1e-3);
const rates = [];
for (let r = 0; r < Number(a.runs); r++) {
  const t0 = performance.now();
  for (let s = 0; s < Number(a.steps); s++) await backend.step(batch, 1e-3);
  rates.push((Number(a.steps) * batch.size) / ((performance.now() - t0) / 1000));
}
console.log(
  JSON.stringify({
    pairsPerSecond: median(rates),
    rates,
    evalLoss,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    device: backend.deviceSummary,
  }),
);
await backend.dispose();

#!/usr/bin/env node
// int8 (QDQ, calibrated in this run) against fp32 for the encoder cut in onnxruntime on CPU: same
// process, same inputs, rounds interleaved (A B A B after warm-up), medians; the whole timing is
// repeated and each model keeps its best median (the shared machine only ever adds time). Random
// weights and images: speed does not depend on them. Needs backend-onnx's dist:
//   (cd packages/backend-onnx && pnpm build) && node bench/quantize/run.mjs [--rounds 15] [--repeats 3] [--methods minmax,entropy]
import { parseArgs } from 'node:util';
import { calibrate, exportSiameseCut, loadOrt, quantizeQdq } from '../../packages/backend-onnx/dist/index.js';
import { initWeights, Random, siamese } from '../../packages/core/dist/index.js';
import { cpuSessionOptions } from '../lib/ort.mjs';
import { timeInterleaved } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    methods: { type: 'string', default: 'minmax' },
    'calibration-batches': { type: 'string', default: '4' },
    only: { type: 'string' },
    spinning: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const repeats = Number(args.repeats);
const threads = Number(args.threads);
const methods = args.methods.split(',');
const CONFIGS = [
  { arch: 'resnet18', channels: 1, size: 105, batch: 16 },
  { arch: 'resnet50', channels: 3, size: 224, batch: 8 },
].filter((c) => !args.only || c.arch === args.only);

const ort = await loadOrt();
const options = cpuSessionOptions(threads, { spinning: args.spinning });
const open = (model) => ort.InferenceSession.create(model, options);

function images(rng, c) {
  const shape = [c.batch, c.channels, c.size, c.size];
  const data = Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => rng.normal());
  return { dtype: 'float32', shape, data };
}

function cosine(a, b, n) {
  const d = a.length / n;
  let worst = 1;
  for (let r = 0; r < n; r++) {
    let [dot, na, nb] = [0, 0, 0];
    for (let i = r * d; i < (r + 1) * d; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    worst = Math.min(worst, dot / Math.sqrt(na * nb));
  }
  return worst;
}

const mib = (bytes) => `${(bytes.length / 2 ** 20).toFixed(1)} MiB`;
for (const c of CONFIGS) {
  const graph = siamese({ encoder: c.arch, input: { channels: c.channels, height: c.size, width: c.size } });
  const fp32 = exportSiameseCut(graph, initWeights(graph, 7), 'encoder');
  const rng = new Random(11);
  const calibration = Array.from({ length: Number(args['calibration-batches']) }, () => images(rng, c));
  const heldOut = images(rng, c);
  const feeds = { image: new ort.Tensor('float32', heldOut.data, heldOut.shape) };
  const candidates = [{ name: 'fp32', session: await open(fp32) }];
  const notes = [`fp32 ${mib(fp32)}`];
  for (const method of methods) {
    const t0 = performance.now();
    const ranges = await calibrate(fp32, calibration, { method, threads });
    const int8 = quantizeQdq(fp32, ranges);
    notes.push(`${method}: ${mib(int8)}, calibrated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    candidates.push({ name: `int8/${method}`, session: await open(int8) });
  }
  const reference = (await candidates[0].session.run(feeds)).embedding.data;
  for (const k of candidates.slice(1)) {
    const cos = cosine(reference, (await k.session.run(feeds)).embedding.data, c.batch);
    notes.push(`${k.name} worst cosine to fp32 ${cos.toFixed(4)}`);
  }
  const t = {};
  for (let r = 0; r < repeats; r++) {
    const medians = await timeInterleaved(
      candidates.map((k) => ({ name: k.name, run: () => k.session.run(feeds) })),
      { rounds },
    );
    for (const [name, s] of Object.entries(medians)) t[name] = Math.min(t[name] ?? s, s);
  }
  const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
  const int8 = candidates
    .slice(1)
    .map(
      (k) => `${methods.length > 1 ? k.name : 'int8'} ${ms(t[k.name])} (${(t.fp32 / t[k.name]).toFixed(2)}x)`,
    );
  console.log(`${c.arch} ${c.channels}x${c.size} b${c.batch}: fp32 ${ms(t.fp32)}, ${int8.join(', ')}`);
  console.log(`  ${notes.join('; ')}`);
  for (const k of candidates) await k.session.release();
}
console.log(
  `onnxruntime ${ort.env.versions?.common ?? ''} CPU, ${threads} intra-op threads (spinning ${args.spinning ? 'on' : 'off'}), best of ${repeats} medians of ${rounds} interleaved rounds`,
);

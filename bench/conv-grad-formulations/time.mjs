// Times ONNX models listed in a manifest with the stock onnxruntime-node CPU build.
// Usage: node time.mjs <workdir>   (workdir holds manifest.json written by run.py)
// For every model: intraOpNumThreads 2, graphOptimizationLevel 'all', 3 warm-up runs,
// then >= 10 timed runs (more while under ~1.5 s), median reported. The full-output model is
// run once and its outputs written as raw float32 for run.py to check against PyTorch; the
// timed model (*.time.onnx) is the same graph with big outputs cut to one element.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../../packages/backend-onnx/package.json'));
const ort = require('onnxruntime-node');

const dir = process.argv[2];
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const only = process.argv[3] ? new RegExp(process.argv[3]) : null;

const cache = new Map();
function loadTensor(spec) {
  const key = spec.file;
  if (!cache.has(key)) {
    const buf = readFileSync(join(dir, spec.file));
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    cache.set(key, new ort.Tensor('float32', data, spec.dims));
  }
  return cache.get(key);
}

const HZ = 100;
const NCPU = 2;
function cpuTicks() {
  const all = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const self = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // fields after ')' start at index 0 = state; utime = 11, stime = 12
  return {
    busy: all.reduce((a, b) => a + b, 0) - all[3] - all[4],
    self: Number(self[11]) + Number(self[12]),
  };
}

const opts = {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
};
const results = [];
for (const m of manifest.models) {
  if (only && !only.test(m.name)) continue;
  const rec = { name: m.name };
  try {
    const feeds = {};
    for (const [k, spec] of Object.entries(m.inputs)) feeds[k] = loadTensor(spec);
    // check model: full outputs, run once, written for run.py to compare with PyTorch
    const check = await ort.InferenceSession.create(join(dir, m.file), opts);
    const out = await check.run(feeds);
    rec.outputs = {};
    for (const name of m.outputs) {
      const t = out[name];
      const f = `out_${m.name}_${name}.bin`;
      writeFileSync(join(dir, f), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      rec.outputs[name] = { file: f, dims: t.dims };
    }
    await check.release();
    // timing model: same graph, big outputs reduced to a 1-element Slice
    const sess = await ort.InferenceSession.create(join(dir, m.time_file), opts);
    for (let i = 0; i < 3; i++) await sess.run(feeds);
    // The 2-core machine is shared: a timing window in which other processes used more than
    // 15% of the CPUs is repeated (up to 4 tries); the lowest median is kept.
    for (let attempt = 0; attempt < 4; attempt++) {
      const times = [];
      const c0 = cpuTicks();
      const t0 = performance.now();
      while (times.length < 10 || (times.length < 200 && performance.now() - t0 < 400)) {
        const s = process.hrtime.bigint();
        await sess.run(feeds);
        times.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      const c1 = cpuTicks();
      const foreign =
        (c1.busy - c0.busy - (c1.self - c0.self)) / (((performance.now() - t0) / 1000) * HZ * NCPU);
      times.sort((a, b) => a - b);
      const med = times[times.length >> 1];
      if (rec.ms === undefined || med < rec.ms) Object.assign(rec, { ms: med, runs: times.length, foreign });
      if (foreign < 0.15) break;
    }
    await sess.release();
  } catch (e) {
    rec.error = String(e.message || e)
      .split('\n')[0]
      .slice(0, 300);
  }
  results.push(rec);
  const info = rec.ms
    ? `${rec.ms.toFixed(2)} ms (foreign cpu ${(100 * rec.foreign).toFixed(0)}%)`
    : rec.error;
  process.stderr.write(`${m.name}: ${info}\n`);
}
writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 1));

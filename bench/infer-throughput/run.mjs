#!/usr/bin/env node
// Inference throughput, side by side in one run: this exporter in onnxruntime, the same network
// exported by torch.onnx.export in onnxruntime, and PyTorch eager. Same weights, same inputs,
// batch 8 pairs, 2 threads. Needs the built packages and Debian's python3-torch:
//   pnpm --filter @siamese/backend-onnx build && node bench/infer-throughput/run.mjs [--rounds 15]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSession, exportSiameseCut, loadOrt } from '../../packages/backend-onnx/dist/index.js';
import { initWeights, Random, saveWeights, siamese } from '../../packages/core/dist/index.js';
import { table, timeInterleaved } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    batch: { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    only: { type: 'string' },
  },
});
const rounds = Number(args.rounds);
const batch = Number(args.batch);
const threads = Number(args.threads);
const PYTHON = '/usr/bin/python3';
const CONFIGS = [
  { arch: 'resnet18', channels: 1, size: 105 },
  { arch: 'resnet50', channels: 3, size: 224 },
].filter((c) => !args.only || c.arch === args.only);

const ort = await loadOrt();
const dir = mkdtempSync(join(tmpdir(), 'siamese-bench-'));
const rows = [
  [
    'model',
    'ours (ort)',
    'torch.onnx (ort)',
    'torch eager',
    'ours/torch.onnx',
    'ours/eager',
    'max |logit diff|',
  ],
];
try {
  for (const c of CONFIGS) {
    const config = { encoder: c.arch, input: { channels: c.channels, height: c.size, width: c.size } };
    const graph = siamese(config);
    const weights = initWeights(graph, 7);
    const r = new Random(11);
    const n = batch * c.channels * c.size * c.size;
    const x1 = Float32Array.from({ length: n }, () => r.normal());
    const x2 = Float32Array.from({ length: n }, () => r.normal());
    const shape = [batch, c.channels, c.size, c.size];
    await saveWeights(join(dir, 'w.safetensors'), weights);
    await saveWeights(join(dir, 'in.safetensors'), [
      ['x1', { dtype: 'float32', shape, data: x1 }],
      ['x2', { dtype: 'float32', shape, data: x2 }],
    ]);
    const torchOnnx = join(dir, 'torch.onnx');
    // PyTorch runs alone (nothing else timed meanwhile): eager timing, then torch.onnx.export.
    const py = JSON.parse(
      execFileSync(
        PYTHON,
        [
          new URL('./torch_ref.py', import.meta.url).pathname,
          ...['--arch', c.arch, '--channels', String(c.channels), '--size', String(c.size)],
          ...['--batch', String(batch), '--threads', String(threads), '--runs', String(rounds)],
          ...[
            '--weights',
            join(dir, 'w.safetensors'),
            '--inputs',
            join(dir, 'in.safetensors'),
            '--onnx-out',
            torchOnnx,
          ],
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      )
        .trim()
        .split('\n')
        .at(-1),
    );
    const options = { device: 'cpu', threads, optimization: 'all' };
    const ours = await createSession(exportSiameseCut(graph, weights, 'pair'), options);
    const theirs = await createSession(new Uint8Array(readFileSync(torchOnnx)), options);
    const feeds = { x1: new ort.Tensor('float32', x1, shape), x2: new ort.Tensor('float32', x2, shape) };
    const logits = (await ours.session.run(feeds)).logit.data;
    const diff = Math.max(...Array.from(logits, (v, i) => Math.abs(v - py.logits[i])));
    const t = await timeInterleaved(
      [
        { name: 'ours', run: () => ours.session.run(feeds) },
        { name: 'torch.onnx', run: () => theirs.session.run(feeds) },
      ],
      { rounds },
    );
    const rate = (s) => batch / s;
    rows.push([
      `${c.arch} ${c.channels}x${c.size}x${c.size}`,
      `${rate(t.ours).toFixed(1)} pairs/s`,
      `${rate(t['torch.onnx']).toFixed(1)} pairs/s`,
      `${py.eager_pairs_per_s.toFixed(1)} pairs/s`,
      `${(t['torch.onnx'] / t.ours).toFixed(2)}x`,
      `${(rate(t.ours) / py.eager_pairs_per_s).toFixed(2)}x`,
      diff.toExponential(1),
    ]);
    await ours.session.release();
    await theirs.session.release();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `inference, batch ${batch} pairs, ${threads} threads, onnxruntime ${ort.env.versions?.common ?? ''}, medians of ${rounds} interleaved rounds`,
);
console.log(table(rows));

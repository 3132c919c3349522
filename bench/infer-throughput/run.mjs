#!/usr/bin/env node
// Inference throughput, side by side in one run and one process: this exporter in onnxruntime,
// the same network exported by torch.onnx.export in onnxruntime, and PyTorch eager (fp32); then
// int8: our QDQ pair cut (calibrated here with calibrateSiamese, head in fp32) and onnxruntime's
// own Python quantizer (quant_pre_process + quantize_static, QDQ, min-max) on PyTorch's export.
// Same weights, same inputs, same threads, every onnxruntime session with intra-op spinning off
// (spinning threads of an idle session steal the cores of the running one on 2 cores).
// Needs the built packages and Debian's python3-torch; the Python quantizer column needs a Python
// with the `onnxruntime` package (--ort-python; see ort_quantize.py):
//   pnpm --filter @siamese/backend-onnx build && node bench/infer-throughput/run.mjs \
//       [--rounds 15] [--batches 8,16] [--only resnet18] [--ort-python /path/to/venv/bin/python]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrateSiamese, exportSiameseCut, loadOrt } from '../../packages/backend-onnx/dist/index.js';
import { initWeights, Random, saveWeights, siamese } from '../../packages/core/dist/index.js';
import { cpuSessionOptions } from '../lib/ort.mjs';
import { table, timeInterleaved } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    batches: { type: 'string', default: '8,16' },
    threads: { type: 'string', default: '2' },
    only: { type: 'string' },
    'ort-python': { type: 'string' },
    'calibration-pairs': { type: 'string', default: '32' },
    // Our pair cut's encoder over both images at once, or once per side (onnxruntime's quantizer
    // gets PyTorch's export, which runs it once per side).
    'pair-encoder': { type: 'string', default: 'auto' },
  },
});
const rounds = Number(args.rounds);
const batches = args.batches.split(',').map(Number);
const threads = Number(args.threads);
const PYTHON = '/usr/bin/python3';
const CONFIGS = [
  { arch: 'resnet18', channels: 1, size: 105 },
  { arch: 'resnet50', channels: 3, size: 224 },
].filter((c) => !args.only || c.arch === args.only);

/** A Python that can import onnxruntime's quantizer, or why there is none. */
function findOrtPython() {
  const candidates = [args['ort-python'], PYTHON].filter(Boolean);
  for (const python of candidates) {
    const r = spawnSync(
      python,
      ['-c', 'import onnxruntime.quantization, onnx; print(onnxruntime.__version__)'],
      {
        encoding: 'utf8',
      },
    );
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return {
    why: `no Python with the onnxruntime package (tried ${candidates.join(', ')}); pass --ort-python (see ort_quantize.py)`,
  };
}

const ort = await loadOrt();
const options = cpuSessionOptions(threads);
const open = (model) => ort.InferenceSession.create(model, options);
const ortPython = findOrtPython();
const dir = mkdtempSync(join(tmpdir(), 'siamese-bench-'));
const rows = [
  [
    'model',
    'batch',
    'ours fp32',
    'torch.onnx fp32',
    'torch eager',
    'ours int8',
    'ort quantizer int8',
    'ours/torch.onnx',
    'max |logit diff|',
  ],
];
const int8Lines = [];

function normal(rng, n) {
  return Float32Array.from({ length: n }, () => rng.normal());
}

try {
  for (const c of CONFIGS) {
    const config = { encoder: c.arch, input: { channels: c.channels, height: c.size, width: c.size } };
    const graph = siamese(config);
    const weights = initWeights(graph, 7);
    const item = c.channels * c.size * c.size;
    await saveWeights(join(dir, 'w.safetensors'), weights);

    // Calibration: the same N(0, 1) pairs for both quantizers (speed does not depend on the data).
    const rng = new Random(5);
    const calPairs = Number(args['calibration-pairs']);
    const calShape = [calPairs, c.channels, c.size, c.size];
    const cal1 = normal(rng, calPairs * item);
    const cal2 = normal(rng, calPairs * item);
    await saveWeights(join(dir, 'calib.safetensors'), [
      ['x1', { dtype: 'float32', shape: calShape, data: cal1 }],
      ['x2', { dtype: 'float32', shape: calShape, data: cal2 }],
    ]);
    const calibrationImages = [];
    for (let i = 0; i < calPairs; i += 8) {
      for (const data of [cal1, cal2]) {
        const n = Math.min(8, calPairs - i);
        const shape = [n, c.channels, c.size, c.size];
        calibrationImages.push({ dtype: 'float32', shape, data: data.slice(i * item, (i + n) * item) });
      }
    }
    const ranges = await calibrateSiamese({ graph, weights }, calibrationImages, { threads });
    const pairEncoder = args['pair-encoder'];
    const oursInt8 = exportSiameseCut(graph, weights, 'pair', { quantize: ranges, pairEncoder });

    let theirsInt8;
    let quantizerNote = ortPython.why;
    for (const batch of batches) {
      const r = new Random(11);
      const shape = [batch, c.channels, c.size, c.size];
      const x1 = normal(r, batch * item);
      const x2 = normal(r, batch * item);
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
            ...['--weights', join(dir, 'w.safetensors'), '--inputs', join(dir, 'in.safetensors')],
            ...['--onnx-out', torchOnnx],
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        )
          .trim()
          .split('\n')
          .at(-1),
      );
      if (theirsInt8 === undefined && ortPython.python) {
        const out = join(dir, 'torch.int8.onnx');
        const q = JSON.parse(
          execFileSync(
            ortPython.python,
            [
              new URL('./ort_quantize.py', import.meta.url).pathname,
              ...['--model', torchOnnx, '--inputs', join(dir, 'calib.safetensors'), '--out', out],
            ],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
          )
            .trim()
            .split('\n')
            .at(-1),
        );
        theirsInt8 = new Uint8Array(readFileSync(out));
        quantizerNote = `onnxruntime ${q.onnxruntime} Python quantizer: ${q.seconds.toFixed(1)} s`;
      }
      const sessions = {
        ours: await open(exportSiameseCut(graph, weights, 'pair', { pairEncoder })),
        'torch.onnx': await open(new Uint8Array(readFileSync(torchOnnx))),
        'ours int8': await open(oursInt8),
        ...(theirsInt8 ? { 'ort int8': await open(theirsInt8) } : {}),
      };
      const feeds = { x1: new ort.Tensor('float32', x1, shape), x2: new ort.Tensor('float32', x2, shape) };
      const logits = (await sessions.ours.run(feeds)).logit.data;
      const diff = Math.max(...Array.from(logits, (v, i) => Math.abs(v - py.logits[i])));
      const t = await timeInterleaved(
        Object.entries(sessions).map(([name, s]) => ({ name, run: () => s.run(feeds) })),
        { rounds },
      );
      const rate = (s) => `${(batch / s).toFixed(1)} pairs/s`;
      const fp32 = t['torch.onnx'];
      const name = `${c.arch} ${c.channels}x${c.size}x${c.size}`;
      rows.push([
        name,
        String(batch),
        rate(t.ours),
        rate(fp32),
        `${py.eager_pairs_per_s.toFixed(1)} pairs/s`,
        rate(t['ours int8']),
        t['ort int8'] ? rate(t['ort int8']) : '-',
        `${(fp32 / t.ours).toFixed(2)}x`,
        diff.toExponential(1),
      ]);
      int8Lines.push(
        `int8 ${name} batch ${batch}: ours ${(fp32 / t['ours int8']).toFixed(2)}x fp32 torch.onnx` +
          (t['ort int8']
            ? `, onnxruntime's Python quantizer ${(fp32 / t['ort int8']).toFixed(2)}x (ours ${(t['ort int8'] / t['ours int8']).toFixed(2)}x its speed)`
            : `, onnxruntime's Python quantizer: - (${ortPython.why})`),
      );
      for (const s of Object.values(sessions)) await s.release();
    }
    if (quantizerNote) int8Lines.push(`  ${c.arch}: ${quantizerNote}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `inference, ${threads} threads (spinning off), our pair encoder ${args['pair-encoder']}, onnxruntime-node ${ort.env.versions?.common ?? ''} CPU, medians of ${rounds} interleaved rounds; ratios to fp32 torch.onnx in the same rounds`,
);
console.log(table(rows));
for (const line of int8Lines) console.log(line);

#!/usr/bin/env node
// `siamese serve` under load: requests/s and latency p50/p99 of POST /v1/compare at a few
// concurrency levels, with micro-batching on (--max-batch 32) versus off (--max-batch 1). Both
// servers run at once (the real CLI, child processes; only the one under load uses the CPU) and
// are measured alternately, A B A B, so machine noise hits both alike; medians over the rounds.
// Every request compares two different images out of 64 random PNGs (no deduplication help).
//   pnpm build && node bench/serve/run.mjs [--arch resnet18_w16] [--size 64] [--seconds 3]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultPreprocessing, initWeights, saveModel, siamese } from '../../packages/core/dist/index.js';
import { loadSharp } from '../../packages/datasets/dist/index.js';
import { median, table } from '../lib/stats.mjs';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const { values: args } = parseArgs({
  options: {
    arch: { type: 'string', default: 'resnet18_w16' },
    size: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,8,32' },
    workers: { type: 'string' },
    threads: { type: 'string' },
  },
});
const size = Number(args.size);
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const levels = args.concurrency.split(',').map(Number);

const dir = mkdtempSync(join(tmpdir(), 'siamese-bench-serve-'));
const input = { channels: 1, height: size, width: size };
const config = { encoder: args.arch, input };
const graph = siamese(config);
await saveModel(join(dir, 'model'), {
  graph,
  config,
  weights: initWeights(graph, 1),
  preprocessing: defaultPreprocessing(input),
  threshold: { probability: 0.5, method: 'eer' },
});

const sharp = await loadSharp();
const images = await Promise.all(
  Array.from({ length: 64 }, (_, i) => {
    const raw = Buffer.alloc(size * size);
    for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 3) + i * 97) % 251;
    return sharp(raw, { raw: { width: size, height: size, channels: 1 } })
      .png()
      .toBuffer()
      .then((b) => b.toString('base64'));
  }),
);

function startServer(name, extra) {
  const flags = ['--port', '0', '--device', 'cpu', ...extra];
  if (args.workers) flags.push('--workers', args.workers);
  if (args.threads) flags.push('--threads', args.threads);
  const child = spawn(process.execPath, [BIN, 'serve', join(dir, 'model'), ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((done, fail) => {
    child.stdout.on('data', (d) => {
      out += d;
      const url = /^listening {3}(\S+)/m.exec(out)?.[1];
      const workers = /^workers {5}(.*)$/m.exec(out)?.[1];
      if (url && workers) done({ name, child, url, workers });
    });
    child.on('exit', (code) => fail(new Error(`${name}: serve exited with ${code}\n${out}`)));
  });
}

/** Closed loop: `c` clients, each sending its next request when the last is answered. */
async function load(url, c) {
  const latencies = [];
  const end = performance.now() + seconds * 1000;
  let errors = 0;
  await Promise.all(
    Array.from({ length: c }, async (_, k) => {
      let i = k * 7;
      while (performance.now() < end) {
        const a = images[i % 64];
        const b = images[(i * 5 + 1) % 64];
        i++;
        const t0 = performance.now();
        const r = await fetch(`${url}/v1/compare`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ a, b }),
        });
        await r.arrayBuffer();
        if (r.status === 200) latencies.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  latencies.sort((x, y) => x - y);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  return { rps: latencies.length / seconds, p50: q(0.5), p99: q(0.99), errors };
}

async function batchSizes(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = Number(/^siamese_batch_images_sum (\S+)/m.exec(text)?.[1]);
  const count = Number(/^siamese_batch_images_count (\S+)/m.exec(text)?.[1]);
  return { sum, count };
}

const servers = await Promise.all([
  startServer('batching (max-batch 32)', ['--max-batch', '32', '--max-delay-ms', '5']),
  startServer('no batching (max-batch 1)', ['--max-batch', '1', '--max-delay-ms', '0']),
]);
try {
  // Warm-up: connections, sessions, page cache.
  for (const s of servers) await load(s.url, 4);
  const rows = [['concurrency', 'server', 'requests/s', 'p50 ms', 'p99 ms', 'images/batch']];
  for (const c of levels) {
    const results = new Map(servers.map((s) => [s.name, []]));
    const batches = new Map();
    for (let r = 0; r < rounds; r++) {
      for (const s of servers) {
        const before = await batchSizes(s.url);
        const m = await load(s.url, c);
        const after = await batchSizes(s.url);
        results.get(s.name).push(m);
        batches.set(s.name, (after.sum - before.sum) / Math.max(1, after.count - before.count));
        if (m.errors) console.error(`${s.name}, concurrency ${c}: ${m.errors} errors`);
      }
    }
    for (const s of servers) {
      const ms = results.get(s.name);
      rows.push([
        String(c),
        s.name,
        median(ms.map((m) => m.rps)).toFixed(1),
        median(ms.map((m) => m.p50)).toFixed(1),
        median(ms.map((m) => m.p99)).toFixed(1),
        batches.get(s.name).toFixed(1),
      ]);
    }
  }
  console.log(
    `siamese serve, POST /v1/compare (2 images per request), ${args.arch} 1x${size}x${size}, CPU; workers ${servers[0].workers}; ${seconds} s per run, medians of ${rounds} rounds (A B A B)`,
  );
  console.log(table(rows));
} finally {
  for (const s of servers) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => new Promise((r) => s.child.on('exit', r))));
  rmSync(dir, { recursive: true, force: true });
}

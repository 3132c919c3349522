#!/usr/bin/env node
// Search at scale with @siamese/gallery: build time, index size, query latency (ANN candidates +
// the head re-ranking them) and recall@10 of the two-stage search against scoring every item with
// the head (brute force), at several gallery sizes.
//
// Embeddings come from a trained model's encoder: the MNIST digits (10,000 real images) up to
// that size, and beyond it synthetic identities of ~50 images each made from real digit embeddings
// (mixes of digits of one class, so they stay where the encoder puts images).
//
//   pnpm --filter @siamese/gallery... build
//   node bench/search-scale/run.mjs [--sizes 5000,100000] [--model DIR | --combine absdiff|euclidean]
//       [--queries 200] [--candidates 100] [--expansion-search 128] [--quantization f32|f16] [--recall-queries N]
//   node bench/search-scale/run.mjs --sizes 1000000            (15-25 minutes on 2 busy cores)
//
// Without --model it trains a small one first (resnet18_w16 on MNIST, 3 epochs of 8,000 pairs, a
// minute or two; --combine euclidean trains a distance head with the contrastive loss) into the OS
// temp folder and reuses it on later runs. Brute-force head scoring over 1M items takes seconds
// per query, so recall is measured on fewer queries at large sizes.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OnnxSiamese } from '../../packages/backend-onnx/dist/index.js';
import { modelFingerprint, Random } from '../../packages/core/dist/index.js';
import { chunks, Loader, mnist } from '../../packages/datasets/dist/index.js';
import {
  BruteForceGallery,
  headScorer,
  recallAtK,
  searchGallery,
  searchPlan,
  UsearchGallery,
} from '../../packages/gallery/dist/index.js';
import { percentile } from './data.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '5000,100000' },
    model: { type: 'string' },
    combine: { type: 'string', default: 'absdiff' },
    queries: { type: 'string', default: '200' },
    'recall-queries': { type: 'string' },
    k: { type: 'string', default: '10' },
    candidates: { type: 'string', default: '100' },
    connectivity: { type: 'string', default: '16' },
    'expansion-add': { type: 'string', default: '64' },
    'expansion-search': { type: 'string', default: '128' },
    quantization: { type: 'string', default: 'f32' },
    threads: { type: 'string', default: '2' },
  },
});
const SIZES = args.sizes.split(',').map(Number);
const Q = Number(args.queries);
const K = Number(args.k);
const CANDIDATES = Number(args.candidates);
const ann = {
  connectivity: Number(args.connectivity),
  expansionAdd: Number(args['expansion-add']),
  expansionSearch: Number(args['expansion-search']),
  quantization: args.quantization,
};

function log(line) {
  console.log(line);
}

/** A trained model folder: --model, or a small one trained once into the temp folder. */
function modelDir() {
  if (args.model) return args.model;
  if (!['absdiff', 'euclidean'].includes(args.combine))
    throw new Error(`--combine must be absdiff or euclidean (or give --model DIR), got '${args.combine}'`);
  const out = join(tmpdir(), 'siamese-search-scale', args.combine);
  const dir = join(out, 'model');
  if (existsSync(join(dir, 'model.json'))) return dir;
  log(`training a small model into ${out} (once; pass --model DIR to use your own)`);
  const r = spawnSync(
    process.execPath,
    [
      join(ROOT, 'packages/cli/dist/bin.js'),
      'train',
      '--data',
      'mnist',
      '--arch',
      'resnet18_w16',
      '--size',
      '28',
      '--channels',
      '1',
      '--epochs',
      '3',
      '--pairs-per-epoch',
      '8000',
      '--batch-size',
      '32',
      '--lr',
      '0.003',
      '--combine',
      args.combine,
      ...(args.combine === 'euclidean' ? ['--loss', 'contrastive'] : []),
      '--out',
      out,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (r.status !== 0) throw new Error(`training the bench model failed (exit ${r.status})`);
  return dir;
}

const dir = modelDir();
const model = await OnnxSiamese.load(dir, { device: 'cpu', threads: Number(args.threads), batchSize: 4096 });
const D = model.embeddingSize;
const plan = searchPlan(model.artifact.config, model.artifact.weights);
const fingerprint = modelFingerprint(model.artifact);
const scorer = headScorer(model);

// The MNIST digits through the encoder.
let t = performance.now();
const digits = await mnist();
const loader = new Loader(digits, { preprocessing: model.preprocessing, cacheBytes: 0 });
const real = new Float32Array(digits.items.length * D);
let row = 0;
for await (const batch of loader.imageBatches(chunks([...digits.items.keys()], 512))) {
  real.set((await model.embed(batch.x)).data, row * D);
  row += batch.indices.length;
}
const realLabels = digits.items.map((it) => it.className);
log(
  `model ${dir}: ${model.artifact.config.encoder}, ${D}-float embeddings, ${plan.reason}; embedded ${digits.items.length.toLocaleString('en-US')} MNIST digits in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

/** Indices of the digits of each class. */
const byClass = new Map();
for (const [i, c] of realLabels.entries()) byClass.set(c, [...(byClass.get(c) ?? []), i]);
const classes = [...byClass.keys()];

/**
 * n gallery items and q queries. Up to the digits' count: real embeddings (the queries are other
 * digits). Beyond: identities of ~50 images each, made from real embeddings so that they stay
 * where the encoder puts images (a head is only meaningful there): an identity's centre is a mix of
 * two digits of one class, each image 80% its centre and 20% a third digit of that class.
 */
function dataset(n, q, seed) {
  if (n + q <= digits.items.length) {
    return {
      source: 'MNIST digits',
      items: Array.from({ length: n }, (_, i) => ({ id: `d${i}`, label: realLabels[q + i] })),
      embeddings: real.slice(q * D, (q + n) * D),
      queries: Array.from({ length: q }, (_, k) => ({
        embedding: real.slice(k * D, (k + 1) * D),
        label: realLabels[k],
      })),
    };
  }
  const r = new Random(seed);
  const clusters = Math.max(1, Math.round(n / 50));
  const digit = (c) => {
    const list = byClass.get(classes[c % classes.length]);
    return real.subarray(list[r.int(list.length)] * D);
  };
  const centres = new Float32Array(clusters * D);
  for (let c = 0; c < clusters; c++) {
    const a = digit(c);
    const b = digit(c);
    const l = 0.3 + 0.4 * r.uniform();
    for (let j = 0; j < D; j++) centres[c * D + j] = l * a[j] + (1 - l) * b[j];
  }
  const sample = (c, out, at) => {
    const x = digit(c);
    for (let j = 0; j < D; j++) out[at + j] = 0.8 * centres[c * D + j] + 0.2 * x[j];
  };
  const embeddings = new Float32Array(n * D);
  const items = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = r.int(clusters);
    sample(c, embeddings, i * D);
    items[i] = { id: `g${i}`, label: `c${c}` };
  }
  const queries = Array.from({ length: q }, () => {
    const c = r.int(clusters);
    const v = new Float32Array(D);
    sample(c, v, 0);
    return { embedding: v, label: `c${c}` };
  });
  return {
    source: `${clusters.toLocaleString('en-US')} synthetic identities from MNIST embeddings`,
    items,
    embeddings,
    queries,
  };
}

/** Brute force, independent of the gallery code: the head on (query, every item), the best K ids. */
async function headTopK(q, data) {
  const n = data.items.length;
  const best = []; // [logit, row], best first
  const chunk = 65536;
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const logits = await scorer(q, data.embeddings.subarray(start * D, (start + m) * D), m);
    for (let i = 0; i < m; i++) {
      const l = logits[i];
      if (best.length === K && l <= best[K - 1][0]) continue;
      best.push([l, start + i]);
      best.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      if (best.length > K) best.pop();
    }
  }
  return { ids: best.map(([, r]) => data.items[r].id), logits: best.map(([l]) => l) };
}

async function du(path) {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await readdir(path)) total += await du(join(path, e));
  return total;
}

const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const ms = (x) => `${x.toFixed(2)} ms`;
const work = await mkdtemp(join(tmpdir(), 'siamese-search-scale-'));
try {
  for (const n of SIZES) {
    const data = dataset(n, Q, n);
    log(`\n${n.toLocaleString('en-US')} items: ${data.source}, ${D} floats`);
    const rss0 = process.memoryUsage().rss;
    t = performance.now();
    const gallery = UsearchGallery.create({ model: fingerprint, dimension: D, metric: plan.metric, ...ann });
    await gallery.add(data.items, data.embeddings);
    const build = (performance.now() - t) / 1000;
    const rss = process.memoryUsage().rss - rss0;
    const path = join(work, `g${n}`);
    t = performance.now();
    await gallery.save(path);
    const saved = (performance.now() - t) / 1000;
    t = performance.now();
    const loaded = await UsearchGallery.load(path);
    const load = (performance.now() - t) / 1000;
    log(
      `  build ${build.toFixed(1)} s (HNSW M=${ann.connectivity}, ef add ${ann.expansionAdd}, ${ann.quantization}), rss +${mib(rss)}; on disk ${mib(await du(path))} (saved in ${saved.toFixed(1)} s, loaded in ${load.toFixed(1)} s)`,
    );

    // Latency of the whole search of one embedded query: candidates, then the head on them.
    const annMs = [];
    const totalMs = [];
    const found = [];
    for (const { embedding: q } of data.queries.slice(0, 5))
      await searchGallery(loaded, q, { k: K, scorer, candidates: CANDIDATES });
    const labelOf = new Map(data.items.map((it) => [it.id, it.label]));
    let precisionTwoStage = 0;
    for (const { embedding: q, label } of data.queries) {
      let t0 = performance.now();
      await loaded.search(q, CANDIDATES);
      annMs.push(performance.now() - t0);
      t0 = performance.now();
      const m = await searchGallery(loaded, q, { k: K, scorer, candidates: CANDIDATES });
      totalMs.push(performance.now() - t0);
      found.push({ ids: m.map((x) => x.id), probabilities: m.map((x) => x.probability) });
      precisionTwoStage += m.filter((x) => x.label === label).length / K;
    }
    log(
      `  query p50 ${ms(percentile(totalMs, 50))}, p99 ${ms(percentile(totalMs, 99))} (ANN alone p50 ${ms(percentile(annMs, 50))}, p99 ${ms(percentile(annMs, 99))}; ${CANDIDATES} candidates re-ranked, ef search ${ann.expansionSearch}; ${Q} queries)`,
    );

    // recall@k against the head on every item.
    const rq = Number(args['recall-queries'] ?? Math.min(Q, Math.max(10, Math.ceil(2e6 / n))));
    const exact = new BruteForceGallery(
      { model: fingerprint, dimension: D, metric: plan.metric },
      data.items,
      data.embeddings,
    );
    const bruteMs = [];
    let sum = 0;
    let annSum = 0;
    let precisionBrute = 0;
    let probBrute = 0;
    let probTwoStage = 0;
    for (let i = 0; i < rq; i++) {
      const { embedding: q, label } = data.queries[i];
      const t0 = performance.now();
      const truth = await headTopK(q, data);
      bruteMs.push(performance.now() - t0);
      sum += recallAtK(truth.ids, found[i].ids, K);
      precisionBrute += truth.ids.filter((id) => labelOf.get(id) === label).length / K;
      probBrute += truth.logits.reduce((a, l) => a + 1 / (1 + Math.exp(-l)), 0) / K;
      probTwoStage += found[i].probabilities.reduce((a, p) => a + p, 0) / K;
      // The candidate stage alone: its nearest against the exact nearest.
      const nearest = (await exact.search(q, CANDIDATES)).map((c) => c.id);
      const approx = (await loaded.search(q, CANDIDATES)).map((c) => c.id);
      annSum += recallAtK(nearest, approx, CANDIDATES);
    }
    log(
      `  recall@${K} ${(sum / rq).toFixed(4)} against brute-force head scoring (${rq} queries; brute force p50 ${ms(percentile(bruteMs, 50))}); ANN recall@${CANDIDATES} of the exact ${plan.metric} neighbours ${(annSum / rq).toFixed(4)}`,
    );
    log(
      `  same label in the top ${K}: two-stage ${(precisionTwoStage / Q).toFixed(4)} (${Q} queries), brute force ${(precisionBrute / rq).toFixed(4)} (${rq} queries)`,
    );
    log(
      `  mean match probability of the top ${K}: two-stage ${(probTwoStage / rq).toFixed(4)}, brute force ${(probBrute / rq).toFixed(4)} (${rq} queries)`,
    );
    await rm(path, { recursive: true, force: true });
  }
} finally {
  await rm(work, { recursive: true, force: true });
  await model.dispose();
}

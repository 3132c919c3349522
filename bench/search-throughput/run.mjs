#!/usr/bin/env node
// One query image against a gallery of 10,000: with cached gallery embeddings (embed the query
// once, then the head alone over 10,000 embedding pairs) versus scoring every (query, image) pair
// through the whole network. The full-pair rate is measured on a slice of the gallery and scaled
// to 10,000 (it is linear in the gallery size); both are printed.
//   pnpm --filter @siamese/backend-onnx build && node bench/search-throughput/run.mjs
import { parseArgs } from 'node:util';
import { OnnxSiamese } from '../../packages/backend-onnx/dist/index.js';
import { defaultPreprocessing, initWeights, Random, siamese } from '../../packages/core/dist/index.js';
import { median, table } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    arch: { type: 'string', default: 'resnet18' },
    size: { type: 'string', default: '105' },
    gallery: { type: 'string', default: '10000' },
    slice: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
  },
});
const size = Number(args.size);
const G = Number(args.gallery);
const S = Number(args.slice);
const rounds = Number(args.rounds);
const config = { encoder: args.arch, input: { channels: 1, height: size, width: size } };
const graph = siamese(config);
const model = await OnnxSiamese.fromArtifact(
  { graph, config, preprocessing: defaultPreprocessing(config.input), weights: initWeights(graph, 3) },
  { device: 'cpu', threads: Number(args.threads), batchSize: 64 },
);
const r = new Random(5);
const image = (n) => ({
  dtype: 'float32',
  shape: [n, 1, size, size],
  data: Float32Array.from({ length: n * size * size }, () => r.normal()),
});
const query = image(1);
const d = model.embeddingSize;

// The cache: gallery embeddings computed ahead (their cost is paid once, at indexing time).
const galleryEmbeddings = {
  dtype: 'float32',
  shape: [G, d],
  data: Float32Array.from({ length: G * d }, () => Math.abs(r.normal())),
};
const repeat = (t, n) => {
  const data = new Float32Array(n * t.data.length);
  for (let i = 0; i < n; i++) data.set(t.data, i * t.data.length);
  return { dtype: 'float32', shape: [n, ...t.shape.slice(1)], data };
};

// The same model with the head run in chunks of the image batch size, as before headBatchSize.
const smallHead = await OnnxSiamese.fromArtifact(model.artifact, {
  device: 'cpu',
  threads: Number(args.threads),
  batchSize: 64,
  headBatchSize: 64,
});

async function cachedSearch(m = model) {
  const q = await m.embed(query);
  const s = await m.scoreEmbeddings(repeat(q, G), galleryEmbeddings);
  // Top 10 by probability.
  return Array.from(s.probability.keys())
    .sort((a, b) => s.probability[b] - s.probability[a])
    .slice(0, 10);
}

const galleryImages = image(S);
const queries = repeat(query, S);
async function fullPairs() {
  await model.score(queries, galleryImages);
}

const embedStart = performance.now();
await model.embed(galleryImages);
const embedPerImage = (performance.now() - embedStart) / 1000 / S;

await cachedSearch();
await cachedSearch(smallHead);
await fullPairs();
const cached = [];
const cachedSmall = [];
const full = [];
for (let i = 0; i < rounds; i++) {
  let t0 = performance.now();
  await cachedSearch();
  cached.push((performance.now() - t0) / 1000);
  t0 = performance.now();
  await cachedSearch(smallHead);
  cachedSmall.push((performance.now() - t0) / 1000);
  t0 = performance.now();
  await fullPairs();
  full.push(((performance.now() - t0) / 1000) * (G / S));
}
const c = median(cached);
const cs = median(cachedSmall);
const f = median(full);
console.log(
  `search: 1 query vs ${G.toLocaleString('en-US')} gallery images, ${args.arch} 1x${size}x${size}, ${args.threads} threads, medians of ${rounds}`,
);
console.log(
  table([
    ['method', 'seconds per query', 'queries/s'],
    ['cached embeddings (embed query + head x10,000)', c.toFixed(3), (1 / c).toFixed(2)],
    ['  the same, head in runs of 64 pairs', cs.toFixed(3), (1 / cs).toFixed(2)],
    [`full pair scoring (measured on ${S}, scaled)`, f.toFixed(2), (1 / f).toFixed(4)],
    ['speed-up', `${(f / c).toFixed(0)}x`, ''],
  ]),
);
console.log(
  `building the cache costs ${(embedPerImage * G).toFixed(1)} s once (${(1 / embedPerImage).toFixed(1)} images/s)`,
);
console.log(`head in runs of 4,096 pairs (headBatchSize default) vs 64: ${(cs / c).toFixed(2)}x faster`);
await model.dispose();
await smallHead.dispose();

#!/usr/bin/env node
// The measurement behind @siamese/gallery's choice of ANN library: usearch (HNSW, in process)
// against LanceDB (Lance tables on disk with an IVF-PQ or HNSW-SQ index), on the same Gaussian
// clusters: build time, memory, size on disk, single-query latency, recall@100 of the candidate
// stage against exact L2, incremental add and remove, and what each keeps besides the vectors.
// LanceDB is not a dependency of the project; install both side by side first:
//
//   npm install --prefix /tmp/ann --ignore-scripts usearch@2.25.3 @lancedb/lancedb@0.33.0 apache-arrow@18.1.0
//   node bench/search-scale/compare-libraries.mjs --modules /tmp/ann [--n 100000] [--dim 128]
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gaussianClusters, percentile, queriesNear } from './data.mjs';

const { values: args } = parseArgs({
  options: {
    modules: { type: 'string', default: '/tmp/ann' },
    n: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '128' },
    queries: { type: 'string', default: '200' },
    k: { type: 'string', default: '100' },
    only: { type: 'string' },
  },
});
const N = Number(args.n);
const D = Number(args.dim);
const Q = Number(args.queries);
const K = Number(args.k);
const req = createRequire(join(args.modules, 'node_modules', 'x.js'));

const data = gaussianClusters(N, D, 1);
const queries = queriesNear(data, N, D, Q, 2);

/** Exact top-K by squared L2 for every query (the ground truth). */
function exactTopK() {
  const out = [];
  for (let q = 0; q < Q; q++) {
    const qv = queries.subarray(q * D, (q + 1) * D);
    const dist = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      let s = 0;
      const o = i * D;
      for (let j = 0; j < D; j++) {
        const t = data[o + j] - qv[j];
        s += t * t;
      }
      dist[i] = s;
    }
    const idx = Uint32Array.from({ length: N }, (_, i) => i);
    idx.sort((a, b) => dist[a] - dist[b]);
    out.push(new Set(idx.subarray(0, K)));
  }
  return out;
}

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
async function du(path) {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await readdir(path)) total += await du(join(path, e));
  return total;
}
function recall(truth, found) {
  let hit = 0;
  for (let q = 0; q < Q; q++) for (const id of found[q]) if (truth[q].has(id)) hit++;
  return hit / (Q * K);
}

async function timeQueries(run) {
  const times = [];
  const found = [];
  for (let q = 0; q < Math.min(5, Q); q++) await run(queries.subarray(q * D, (q + 1) * D));
  for (let q = 0; q < Q; q++) {
    const t0 = performance.now();
    found.push(await run(queries.subarray(q * D, (q + 1) * D)));
    times.push(performance.now() - t0);
  }
  return { found, p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function usearchRow(truth, dir) {
  const { Index } = req('usearch');
  const rss0 = rssMiB();
  const t0 = performance.now();
  const index = new Index({
    dimensions: D,
    metric: 'l2sq',
    quantization: 'f32',
    connectivity: 16,
    expansion_add: 128,
    expansion_search: 64,
    multi: false,
  });
  index.reserve?.(N + 1000);
  const keys = BigUint64Array.from({ length: N }, (_, i) => BigInt(i));
  index.add(keys, data, 0);
  const build = (performance.now() - t0) / 1000;
  const file = join(dir, 'usearch.index');
  index.save(file);
  const mem = rssMiB() - rss0;
  const rows = [];
  for (const ef of [64, 128, 256]) {
    const ix = new Index({
      dimensions: D,
      metric: 'l2sq',
      quantization: 'f32',
      connectivity: 16,
      expansion_add: 128,
      expansion_search: ef,
      multi: false,
    });
    ix.load(file);
    const r = await timeQueries((v) => Array.from(ix.search(v, K, 1).keys, Number));
    rows.push({ setting: `HNSW M=16 ef=${ef}`, recall: recall(truth, r.found), ...r });
  }
  const extra = gaussianClusters(1000, D, 9);
  let t = performance.now();
  index.add(
    BigUint64Array.from({ length: 1000 }, (_, i) => BigInt(N + i)),
    extra,
    0,
  );
  const add = performance.now() - t;
  t = performance.now();
  index.remove(BigUint64Array.from({ length: 1000 }, (_, i) => BigInt(i)));
  const remove = performance.now() - t;
  return {
    name: 'usearch 2.25.3',
    build,
    mem,
    disk: await du(file),
    rows,
    add,
    remove,
    metadata: 'u64 keys only (labels kept beside it)',
  };
}

async function lancedbRow(truth, dir) {
  const lancedb = await import(pathToFileURL(req.resolve('@lancedb/lancedb')).href);
  const arrow = await import(pathToFileURL(req.resolve('apache-arrow')).href);
  const rss0 = rssMiB();
  const t0 = performance.now();
  const schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int32(), false),
    new arrow.Field('label', new arrow.Utf8(), false),
    new arrow.Field(
      'vector',
      new arrow.FixedSizeList(D, new arrow.Field('item', new arrow.Float32(), true)),
      false,
    ),
  ]);
  const toTable = (vectors, first) => {
    const n = vectors.length / D;
    return lancedb.makeArrowTable(
      Array.from({ length: n }, (_, i) => ({
        id: first + i,
        label: `c${(first + i) % 1000}`,
        vector: Array.from(vectors.subarray(i * D, (i + 1) * D)),
      })),
      { schema },
    );
  };
  const db = await lancedb.connect(join(dir, 'lance'));
  const table = await db.createTable('gallery', toTable(data, 0), { mode: 'overwrite' });
  const written = (performance.now() - t0) / 1000;
  await table.createIndex('vector', {
    config: lancedb.Index.ivfPq({
      numPartitions: Math.max(1, Math.round(Math.sqrt(N))),
      numSubVectors: D / 8,
      distanceType: 'l2',
    }),
  });
  const build = (performance.now() - t0) / 1000;
  const mem = rssMiB() - rss0;
  const rows = [];
  for (const [nprobes, refine] of [
    [20, 1],
    [20, 10],
    [50, 10],
  ]) {
    const r = await timeQueries(async (v) =>
      (
        await table
          .vectorSearch(Array.from(v))
          .distanceType('l2')
          .nprobes(nprobes)
          .refineFactor(refine)
          .limit(K)
          .select(['id'])
          .toArray()
      ).map((row) => row.id),
    );
    rows.push({
      setting: `IVF-PQ ${Math.round(Math.sqrt(N))} parts, nprobes=${nprobes} refine=${refine}`,
      recall: recall(truth, r.found),
      ...r,
    });
  }
  let t = performance.now();
  await table.add(toTable(gaussianClusters(1000, D, 9), N));
  const add = performance.now() - t;
  t = performance.now();
  await table.delete(`id < 1000`);
  const remove = performance.now() - t;
  return {
    name: `@lancedb/lancedb 0.33.0 (table written in ${written.toFixed(1)} s)`,
    build,
    mem,
    disk: await du(join(dir, 'lance')),
    rows,
    add,
    remove,
    metadata: 'any columns (SQL filters)',
  };
}

const dir = await mkdtemp(join(tmpdir(), 'siamese-ann-compare-'));
try {
  let t = performance.now();
  const truth = exactTopK();
  console.log(
    `${N.toLocaleString('en-US')} x ${D} Gaussian clusters, ${Q} queries, exact top-${K} in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const libs = { usearch: usearchRow, lancedb: lancedbRow };
  for (const [name, run] of Object.entries(libs)) {
    if (args.only && args.only !== name) continue;
    t = performance.now();
    const r = await run(truth, dir);
    console.log(`\n${r.name}`);
    console.log(
      `  build ${r.build.toFixed(1)} s, rss +${r.mem.toFixed(0)} MiB, on disk ${(r.disk / 2 ** 20).toFixed(1)} MiB`,
    );
    for (const row of r.rows) {
      console.log(
        `  ${row.setting.padEnd(40)} recall@${K} ${row.recall.toFixed(3)}  p50 ${row.p50.toFixed(2)} ms  p99 ${row.p99.toFixed(2)} ms  (${(1000 / row.p50).toFixed(0)} QPS)`,
      );
    }
    console.log(
      `  add 1,000: ${r.add.toFixed(0)} ms, remove 1,000: ${r.remove.toFixed(0)} ms; metadata: ${r.metadata}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

// Synthetic galleries for the search-scale benchmarks: seeded Gaussian clusters (an identity per
// cluster, about 50 images each, like an enrolment gallery), queries drawn near stored items.
import { Random } from '../../packages/core/dist/index.js';

/** Seeded draws (core's generator), so every run sees the same data. */
function uniform(seed) {
  const r = new Random(seed);
  return () => r.uniform();
}

function normal(seed) {
  const r = new Random(seed);
  return () => r.normal();
}

/**
 * n points [n x d] around n/50 centres (unit Gaussian), spread 0.35 per coordinate; non-negative
 * when `relu` (like a ResNet's pooled features). Returns { data, labels }.
 */
export function gaussianClusters(n, d, seed, { perCluster = 50, spread = 0.35, relu = false } = {}) {
  const g = normal(seed);
  const clusters = Math.max(1, Math.round(n / perCluster));
  const centres = new Float32Array(clusters * d);
  for (let i = 0; i < centres.length; i++) centres[i] = g();
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(uniform(seed * 7919 + i)() * clusters);
    labels[i] = c;
    for (let j = 0; j < d; j++) {
      const v = centres[c * d + j] + spread * g();
      data[i * d + j] = relu ? Math.max(0, v) : v;
    }
  }
  return Object.assign(data, { labels });
}

/** q queries, each a random stored item plus noise of the cluster spread (an unseen image of it). */
export function queriesNear(data, n, d, q, seed, spread = 0.35) {
  const g = normal(seed);
  const u = uniform(seed + 1);
  const out = new Float32Array(q * d);
  for (let k = 0; k < q; k++) {
    const i = Math.floor(u() * n);
    for (let j = 0; j < d; j++) out[k * d + j] = data[i * d + j] + spread * g();
  }
  return out;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

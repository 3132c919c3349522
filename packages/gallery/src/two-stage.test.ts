import { describe, expect, it } from 'vitest';
import { BruteForceGallery } from './brute-force.js';
import type { Metric } from './gallery.js';
import { clusters, cosineHead, mlpHead, near } from './test-util.js';
import { headScorer, recallAtK, searchGallery } from './two-stage.js';
import { UsearchGallery } from './usearch-gallery.js';

const D = 16;
const MODEL = 'f'.repeat(64);
const data = clusters(2000, D, 3, 20);

async function galleries(metric: Metric) {
  // One thread: a multi-threaded HNSW build differs from run to run (and once missed 1 item in 300).
  const ann = UsearchGallery.create({ model: MODEL, dimension: D, metric, threads: 1 });
  await ann.add(data.items, data.embeddings);
  const exact = new BruteForceGallery({ model: MODEL, dimension: D, metric }, data.items, data.embeddings);
  return { ann, exact };
}

/** Mean recall@10 of the two-stage search against scoring every item with the head. */
async function recall(metric: Metric, scorer: ReturnType<typeof mlpHead>, candidates?: number) {
  const { ann, exact } = await galleries(metric);
  let sum = 0;
  const queries = 30;
  for (let q = 0; q < queries; q++) {
    const query = near(data.embeddings, D, q * 61, 100 + q);
    const truth = await searchGallery(exact, query, { k: 10, scorer, candidates: Infinity });
    const found = await searchGallery(ann, query, {
      k: 10,
      scorer,
      ...(candidates ? { candidates } : {}),
    });
    sum += recallAtK(
      truth.map((m) => m.id),
      found.map((m) => m.id),
      10,
    );
  }
  return sum / queries;
}

describe('two-stage search (candidates by distance, re-ranked by the head)', () => {
  it('agrees with brute-force head scoring for an MLP head on absdiff (recall@10)', async () => {
    const head = mlpHead(D, 32, 9);
    // 100 L2 candidates hold nearly all of the head's top 10 ...
    expect(await recall('l2', head)).toBeGreaterThanOrEqual(0.95);
    // ... while 10 candidates (no room to re-rank) miss some: the head is not an L2 ranking.
    expect(await recall('l2', head, 10)).toBeLessThan(0.95);
  });

  it('is exact for a cosine head: the same top 10, in the same order, with the same scores', async () => {
    const head = cosineHead(D);
    expect(await recall('cosine', head)).toBe(1);
    const { ann, exact } = await galleries('cosine');
    const query = near(data.embeddings, D, 5, 1);
    const a = await searchGallery(ann, query, { k: 10, scorer: head });
    const b = await searchGallery(exact, query, { k: 10, scorer: head, candidates: Infinity });
    expect(a.map((m) => m.id)).toEqual(b.map((m) => m.id));
    for (const [i, m] of a.entries()) expect(m.probability).toBeCloseTo(b[i]!.probability, 5);
  });

  it('returns ranks, labels, logits and probabilities, and checks its options', async () => {
    const { exact } = await galleries('l2');
    const query = data.embeddings.subarray(7 * D, 8 * D);
    const [first, second] = await searchGallery(exact, query, { k: 2, scorer: cosineHead(D) });
    expect(first).toMatchObject({ rank: 1, id: 'i7', label: data.items[7]!.label, distance: 0 });
    expect(first!.logit).toBeCloseTo(3, 5);
    expect(first!.probability).toBeCloseTo(1 / (1 + Math.exp(-3)), 5);
    expect(second!.rank).toBe(2);
    const scorer = cosineHead(D);
    await expect(searchGallery(exact, query, { k: 0, scorer })).rejects.toThrow(
      'k must be a positive integer',
    );
    await expect(searchGallery(exact, query, { k: 5, scorer, candidates: 3 })).rejects.toThrow(
      'candidates must be an integer >= k (5), got 3',
    );
    const empty = new BruteForceGallery({ model: MODEL, dimension: D });
    expect(await searchGallery(empty, query, { k: 3, scorer })).toEqual([]);
  });

  it('scores in chunks through a model with scoreEmbeddings, the query as the first input', async () => {
    const calls: number[] = [];
    const model = {
      embeddingSize: D,
      async scoreEmbeddings(a: { shape: readonly number[]; data: unknown }, b: { data: unknown }) {
        const n = a.shape[0]!;
        calls.push(n);
        const x = a.data as Float32Array;
        const y = b.data as Float32Array;
        // logit = x[0] - y[0]: not symmetric, so a swapped pair would show.
        return { logit: Float32Array.from({ length: n }, (_, i) => x[i * D]! - y[i * D]!) };
      },
    };
    const { exact } = await galleries('l2');
    const query = near(data.embeddings, D, 0, 4);
    const m = await searchGallery(exact, query, {
      k: 3,
      scorer: headScorer(model),
      candidates: 250,
      chunk: 100,
    });
    expect(calls).toEqual([100, 100, 50]);
    const nearest = await exact.search(query, 250);
    const best = nearest.map((c) => query[0]! - c.embedding[0]!).sort((a, b) => b - a);
    expect(m.map((x) => x.logit)).toEqual(best.slice(0, 3).map((v) => Math.fround(v)));
  });

  it('recallAtK counts the share of the true top k found', () => {
    expect(recallAtK(['a', 'b', 'c', 'd'], ['b', 'x', 'a', 'c'], 3)).toBeCloseTo(2 / 3);
    expect(recallAtK(['a'], ['a', 'b'], 10)).toBe(1);
    expect(recallAtK([], ['a'], 10)).toBe(1);
  });
});

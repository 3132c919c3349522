/**
 * Evaluation at a bounded cost: every image involved is embedded once, then every pair (verification
 * pairs, one-shot episodes, the retrieval gallery) is scored by the head alone on the stored
 * embeddings. In eval mode that is exactly the pair model's score, for a fraction of the work.
 */
import type { OnnxSiamese } from '@siamese/backend-onnx';
import {
  equalErrorRate,
  nWayAccuracy,
  pairAccuracy,
  Random,
  resolveSiamese,
  retrievalMetrics,
  rocAuc,
  thresholdAtFar,
} from '@siamese/core';
import type { Dataset, Episode, Pair } from '@siamese/datasets';
import { UsageError } from '../errors.js';
import type { DataSelection } from './data.js';
import { embedItems, headLogits, logit, sigmoid } from './embed.js';

export interface EvalOptions {
  /** At most this many verification pairs (sampled, or a CSV's first after a seeded shuffle). */
  readonly pairs: number;
  /** Target false-accept rate for the operating threshold. */
  readonly far: number;
  /** N of N-way; undefined: 20, or fewer when the data has fewer classes. */
  readonly way?: number;
  readonly episodes: number;
  /** At most this many images in the retrieval gallery. */
  readonly gallery: number;
  readonly seed: number;
  readonly batchSize: number;
}

export interface PairMetrics {
  readonly source: 'sampled' | 'listed';
  /** For listed pairs: how many the CSV had. */
  readonly listed?: number;
  readonly count: number;
  readonly same: number;
  readonly different: number;
  readonly rocAuc: number;
  readonly eer: number;
  /** Probabilities (the model's units); null when no threshold meets the target. */
  readonly eerThreshold: number;
  readonly accuracyAtEer: number;
  readonly modelThreshold: {
    readonly probability: number;
    readonly method: string;
    readonly accuracy: number;
  } | null;
  readonly atFar: {
    readonly target: number;
    readonly threshold: number | null;
    readonly far: number;
    readonly tar: number;
  };
  readonly notes: readonly string[];
}

export interface OneShotMetrics {
  readonly way: number;
  readonly episodes: number;
  readonly trials: number;
  readonly protocol: 'within-alphabet' | 'across-classes';
  readonly accuracy: number;
  readonly notes: readonly string[];
}

export interface RetrievalMetrics {
  readonly gallery: number;
  readonly classes: number;
  readonly precisionAt1: number;
  readonly mapAtR: number;
}

export interface Skipped {
  readonly skipped: string;
}

export interface EvalReport {
  /** Distinct images embedded (the encoder's work). */
  readonly embedded: number;
  /** Pairs scored by the head (the head's work). */
  readonly headScores: number;
  readonly pairs: PairMetrics | Skipped;
  readonly oneShot: OneShotMetrics | Skipped;
  readonly retrieval: RetrievalMetrics | Skipped;
}

function shuffled<T>(items: readonly T[], rng: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Item indices per label, for classes with two or more items. */
function repeatedClasses(d: Dataset): Map<number, number[]> {
  const by = new Map<number, number[]>();
  d.items.forEach((it, i) => {
    const list = by.get(it.label);
    if (list) list.push(i);
    else by.set(it.label, [i]);
  });
  for (const [c, list] of by) if (list.length < 2) by.delete(c);
  return by;
}

interface PairPlan {
  readonly pairs: readonly Pair[];
  readonly source: 'sampled' | 'listed';
  readonly listed?: number;
}

async function planPairs(sel: DataSelection, o: EvalOptions): Promise<PairPlan | Skipped> {
  if (sel.pairs) {
    const listed = sel.pairs.length;
    if (listed === 0) return { skipped: 'no listed pair has both images in this part' };
    const pairs =
      listed <= o.pairs
        ? sel.pairs
        : shuffled(sel.pairs, Random.forName(o.seed, 'eval/pairs')).slice(0, o.pairs);
    return { pairs, source: 'listed', listed };
  }
  const { samplePairs } = await import('@siamese/datasets');
  if (repeatedClasses(sel.dataset).size === 0 || new Set(sel.dataset.items.map((i) => i.label)).size < 2) {
    return { skipped: 'pairs need two classes and a class with two or more images' };
  }
  return { pairs: samplePairs(sel.dataset, o.pairs, { seed: o.seed }), source: 'sampled' };
}

interface EpisodePlan {
  readonly episodes: readonly Episode[];
  readonly way: number;
  readonly protocol: 'within-alphabet' | 'across-classes';
  readonly notes: string[];
}

async function planEpisodes(sel: DataSelection, o: EvalOptions): Promise<EpisodePlan | Skipped> {
  const ds = await import('@siamese/datasets');
  const d = sel.dataset;
  const eligible = repeatedClasses(d).size;
  const notes: string[] = [];
  if (o.way !== undefined && o.way > eligible) {
    throw new UsageError(
      `--way ${o.way}: '${d.name}' has ${eligible} classes with two or more images; use --way ${Math.max(2, eligible)} or fewer`,
    );
  }
  if (o.episodes === 0) return { skipped: '--episodes 0' };
  if (eligible < 2) return { skipped: 'one-shot episodes need two classes with two or more images' };
  const way = o.way ?? Math.min(20, eligible);
  if (o.way === undefined && way < 20)
    notes.push(`${way}-way: the data has ${eligible} classes with two or more images`);
  if (sel.layout === 'groups') {
    try {
      // How many alphabets can hold a run, then enough runs per alphabet, taken round-robin.
      const probe = ds.withinGroupEpisodes(d, { way, seed: o.seed, runsPerGroup: 1 });
      const usable = probe.episodes.length;
      const runs = ds.withinGroupEpisodes(d, {
        way,
        seed: o.seed,
        runsPerGroup: Math.ceil(o.episodes / usable),
      });
      if (runs.skippedGroups.length > 0) {
        notes.push(
          `alphabets left out (fewer than ${way} characters drawn by two drawers): ${runs.skippedGroups.join(', ')}`,
        );
      }
      const episodes = roundRobin(runs.episodes).slice(0, o.episodes);
      return { episodes, way, protocol: 'within-alphabet', notes };
    } catch (e) {
      if (!(e instanceof ds.DatasetError && e.code === 'too-few')) throw e;
      notes.push(`no alphabet has ${way} characters drawn by two drawers: episodes across alphabets`);
    }
  }
  const sampler = new ds.EpisodeSampler(d, { way, shot: 1, seed: o.seed });
  const episodes = Array.from({ length: o.episodes }, () => sampler.next());
  return { episodes, way, protocol: 'across-classes', notes };
}

/** Episodes ordered run 1 of every group, then run 2 of every group, ... */
function roundRobin(episodes: readonly Episode[]): Episode[] {
  const byGroup = new Map<string, Episode[]>();
  for (const e of episodes) {
    const list = byGroup.get(e.group ?? '');
    if (list) list.push(e);
    else byGroup.set(e.group ?? '', [e]);
  }
  const lists = [...byGroup.values()];
  const out: Episode[] = [];
  for (let k = 0; out.length < episodes.length; k++) {
    for (const l of lists) {
      const e = l[k];
      if (e) out.push(e);
    }
  }
  return out;
}

/** Up to `size` items, balanced over classes with two or more items (seeded). */
function planGallery(d: Dataset, o: EvalOptions): number[] | Skipped {
  if (o.gallery === 0) return { skipped: '--gallery 0' };
  const by = repeatedClasses(d);
  if (by.size < 2) return { skipped: 'retrieval needs two classes with two or more images' };
  const rng = Random.forName(o.seed, 'eval/gallery');
  const classes = shuffled(
    [...by.keys()].sort((a, b) => a - b),
    rng,
  );
  const perClass = Math.max(2, Math.ceil(o.gallery / classes.length));
  const out: number[] = [];
  for (const c of classes) {
    if (out.length + 2 > o.gallery) break;
    const take = Math.min(perClass, o.gallery - out.length);
    out.push(...shuffled(by.get(c)!, rng).slice(0, take));
  }
  if (new Set(out.map((i) => d.items[i]!.label)).size < 2) {
    return { skipped: `a gallery of ${o.gallery} holds fewer than two classes; raise --gallery` };
  }
  return out;
}

export function isSkipped(v: unknown): v is Skipped {
  return typeof v === 'object' && v !== null && 'skipped' in v;
}

/** Pair metrics from head logits (ROC on logits: finer than probabilities, which saturate). */
function pairMetrics(
  plan: PairPlan,
  logits: Float32Array,
  model: OnnxSiamese,
  far: number,
): PairMetrics | Skipped {
  const labels = Float32Array.from(plan.pairs, (p) => p.same);
  const same = labels.reduce((a, b) => a + b, 0);
  const different = labels.length - same;
  if (same === 0 || different === 0) {
    return {
      skipped: `pair metrics need same and different pairs (got ${same} same, ${different} different)`,
    };
  }
  const eer = equalErrorRate(logits, labels);
  const at = thresholdAtFar(logits, labels, far);
  const t = model.threshold;
  const notes: string[] = [];
  if (far > 0 && far < 1 / different) {
    notes.push(
      `FAR ${far} is finer than 1/${different} different pairs: raise --pairs for a reliable threshold`,
    );
  }
  return {
    source: plan.source,
    ...(plan.listed !== undefined ? { listed: plan.listed } : {}),
    count: labels.length,
    same,
    different,
    rocAuc: rocAuc(logits, labels),
    eer: eer.eer,
    eerThreshold: sigmoid(eer.threshold),
    accuracyAtEer: pairAccuracy(logits, labels, eer.threshold),
    modelThreshold: t
      ? {
          probability: t.probability,
          method: t.method,
          accuracy: pairAccuracy(logits, labels, logit(t.probability)),
        }
      : null,
    atFar: {
      target: far,
      threshold: Number.isFinite(at.threshold) ? sigmoid(at.threshold) : null,
      far: at.far,
      tar: at.tar,
    },
    notes,
  };
}

/** Is score(a, b) = score(b, a) for this model? Then the gallery needs half the pairs. */
function symmetric(model: OnnxSiamese): boolean {
  const c = resolveSiamese(model.artifact.config).combine;
  return c === 'absdiff' || c === 'euclidean' || c === 'cosine';
}

export async function evaluate(model: OnnxSiamese, sel: DataSelection, o: EvalOptions): Promise<EvalReport> {
  const d = sel.dataset;
  const pairPlan = await planPairs(sel, o);
  const episodePlan = await planEpisodes(sel, o);
  const gallery = planGallery(d, o);

  // Every image once.
  const needed = new Set<number>();
  if (!isSkipped(pairPlan)) for (const p of pairPlan.pairs) needed.add(p.a).add(p.b);
  if (!isSkipped(episodePlan))
    for (const e of episodePlan.episodes) for (const i of [...e.query, ...e.support]) needed.add(i);
  if (!isSkipped(gallery)) for (const i of gallery) needed.add(i);
  const indices = [...needed].sort((a, b) => a - b);
  const row = new Map(indices.map((item, r) => [item, r]));
  const embeddings = await embedItems(model, d, indices, o.batchSize);
  const rowOf = (item: number) => row.get(item)!;

  // Every pair the head scores, in one list: verification, then episodes, then the gallery.
  const a: number[] = [];
  const b: number[] = [];
  const pair = (i: number, j: number) => {
    a.push(rowOf(i));
    b.push(rowOf(j));
  };
  if (!isSkipped(pairPlan)) for (const p of pairPlan.pairs) pair(p.a, p.b);
  const episodeStart = a.length;
  if (!isSkipped(episodePlan)) {
    for (const e of episodePlan.episodes) for (const q of e.query) for (const s of e.support) pair(q, s);
  }
  const galleryStart = a.length;
  const sym = symmetric(model);
  if (!isSkipped(gallery)) {
    for (let i = 0; i < gallery.length; i++) {
      for (let j = sym ? i + 1 : 0; j < gallery.length; j++) {
        if (i !== j) pair(gallery[i]!, gallery[j]!);
      }
    }
  }
  const logits = await headLogits(model, embeddings, a, b);

  const pairs = isSkipped(pairPlan)
    ? pairPlan
    : pairMetrics(pairPlan, logits.subarray(0, episodeStart), model, o.far);

  let oneShot: OneShotMetrics | Skipped;
  if (isSkipped(episodePlan)) oneShot = episodePlan;
  else {
    const trials: { scores: Float32Array; correct: number }[] = [];
    let at = episodeStart;
    for (const e of episodePlan.episodes) {
      const ns = e.support.length;
      e.query.forEach((_, qi) => {
        trials.push({
          scores: logits.subarray(at + qi * ns, at + (qi + 1) * ns),
          correct: e.supportLabels.indexOf(e.queryLabels[qi]!),
        });
      });
      at += e.query.length * ns;
    }
    oneShot = {
      way: episodePlan.way,
      episodes: episodePlan.episodes.length,
      trials: trials.length,
      protocol: episodePlan.protocol,
      accuracy: nWayAccuracy(trials),
      notes: episodePlan.notes,
    };
  }

  let retrieval: RetrievalMetrics | Skipped;
  if (isSkipped(gallery)) retrieval = gallery;
  else {
    const g = gallery.length;
    const sim = new Float32Array(g * g);
    let at = galleryStart;
    for (let i = 0; i < g; i++) {
      for (let j = sym ? i + 1 : 0; j < g; j++) {
        if (i === j) continue;
        sim[i * g + j] = logits[at]!;
        if (sym) sim[j * g + i] = logits[at]!;
        at++;
      }
    }
    const labels = Int32Array.from(gallery, (i) => d.items[i]!.label);
    const r = retrievalMetrics(labels, (i, j) => sim[i * g + j]!);
    retrieval = { gallery: g, classes: new Set(labels).size, ...r };
  }

  return { embedded: indices.length, headScores: a.length, pairs, oneShot, retrieval };
}

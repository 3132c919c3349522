/**
 * Choosing what an evaluation scores, seeded: the verification pairs (sampled, or a CSV's listed
 * ones), the one-shot episodes (within alphabets when the data has groups) and the retrieval
 * gallery. Each plan is a list of item indices, or the reason the task is skipped.
 */
import { Random } from '@siamese/core';
import type { Dataset, Episode, Pair } from '@siamese/datasets';
import { UsageError } from '../errors.js';
import type { DataSelection } from './data.js';
import type { Skipped } from './eval-report.js';

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

export interface PairPlan {
  readonly pairs: readonly Pair[];
  readonly source: 'sampled' | 'listed';
  readonly listed?: number;
}

export async function planPairs(sel: DataSelection, o: EvalOptions): Promise<PairPlan | Skipped> {
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

export interface EpisodePlan {
  readonly episodes: readonly Episode[];
  readonly way: number;
  readonly protocol: 'within-alphabet' | 'across-classes';
  readonly notes: string[];
}

export async function planEpisodes(sel: DataSelection, o: EvalOptions): Promise<EpisodePlan | Skipped> {
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
export function planGallery(d: Dataset, o: EvalOptions): number[] | Skipped {
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

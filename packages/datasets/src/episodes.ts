/**
 * N-way k-shot episodes for one-shot evaluation, and the 20-way within-alphabet protocol of
 * Lake et al. (2015) / Koch et al. (2015): in one alphabet, pick 20 characters and two drawers;
 * each of drawer A's 20 images is a query compared against all 20 of drawer B's (the support),
 * and is right when its own character scores highest.
 */
import type { Random } from '@siamese/core';
import { type Dataset, indicesByClass, type Pair } from './dataset.js';
import { datasetError } from './errors.js';
import { sample, stream } from './shuffle.js';

export interface Episode {
  readonly way: number;
  readonly shot: number;
  /** Class labels of the episode, in episode order (episode class i is `classes[i]`). */
  readonly classes: readonly number[];
  /** The group all classes come from, for within-group episodes. */
  readonly group?: string;
  /** Drawers of the queries and the support, when the protocol used them. */
  readonly drawers?: readonly [query: string, support: string];
  /** Item indices: way x shot, class-major. */
  readonly support: readonly number[];
  /** Episode class (0..way-1) of each support item. */
  readonly supportLabels: readonly number[];
  readonly query: readonly number[];
  readonly queryLabels: readonly number[];
}

export interface EpisodeOptions {
  readonly way: number;
  readonly shot: number;
  /** Queries per class. Default 1. */
  readonly queries?: number;
  readonly seed: number;
  /** Draw all classes of an episode from one group (an alphabet). Default false. */
  readonly withinGroup?: boolean;
}

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min)
    throw datasetError('options', `episodes: ${name} must be an integer >= ${min}, got ${v}`);
}

export class EpisodeSampler {
  private readonly rng: Random;
  private readonly byClass: Map<number, number[]>;
  private readonly eligible: number[];
  private readonly groups: [string, number[]][];
  private readonly queries: number;

  constructor(
    readonly dataset: Dataset,
    readonly options: EpisodeOptions,
  ) {
    checkCount('way', options.way, 2);
    checkCount('shot', options.shot, 1);
    this.queries = options.queries ?? 1;
    checkCount('queries', this.queries, 1);
    this.rng = stream(options.seed, 'episodes');
    this.byClass = indicesByClass(dataset);
    const need = options.shot + this.queries;
    this.eligible = [...this.byClass.keys()]
      .sort((a, b) => a - b)
      .filter((c) => (this.byClass.get(c) as number[]).length >= need);
    const byGroup = new Map<string, number[]>();
    for (const c of this.eligible) {
      const g = this.dataset.items[(this.byClass.get(c) as number[])[0] as number]?.group;
      if (g === undefined) continue;
      const list = byGroup.get(g);
      if (list) list.push(c);
      else byGroup.set(g, [c]);
    }
    this.groups = [...byGroup]
      .filter(([, cs]) => cs.length >= options.way)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const what = `${options.way} classes with ${need} or more images (shot ${options.shot} + ${this.queries} queries)`;
    if (options.withinGroup) {
      if (this.groups.length === 0) {
        throw datasetError(
          'too-few',
          `episodes: within-group episodes need a group with ${what}; '${dataset.name}' has none`,
        );
      }
    } else if (this.eligible.length < options.way) {
      throw datasetError('too-few', `episodes: need ${what}; '${dataset.name}' has ${this.eligible.length}`);
    }
  }

  next(): Episode {
    const { way, shot } = this.options;
    let group: string | undefined;
    let pool = this.eligible;
    if (this.options.withinGroup) {
      const chosen = this.groups[this.rng.int(this.groups.length)] as [string, number[]];
      [group, pool] = chosen;
    }
    const classes = sample(pool, way, this.rng);
    const support: number[] = [];
    const supportLabels: number[] = [];
    const query: number[] = [];
    const queryLabels: number[] = [];
    classes.forEach((c, e) => {
      const drawn = sample(this.byClass.get(c) as number[], shot + this.queries, this.rng);
      for (const i of drawn.slice(0, shot)) {
        support.push(i);
        supportLabels.push(e);
      }
      for (const i of drawn.slice(shot)) {
        query.push(i);
        queryLabels.push(e);
      }
    });
    return {
      way,
      shot,
      classes,
      ...(group !== undefined ? { group } : {}),
      support,
      supportLabels,
      query,
      queryLabels,
    };
  }
}

/** `count` episodes from one seed. */
export function episodes(dataset: Dataset, count: number, options: EpisodeOptions): Episode[] {
  const sampler = new EpisodeSampler(dataset, options);
  return Array.from({ length: count }, () => sampler.next());
}

export interface WithinGroupOptions {
  /** Characters per run. Default 20. */
  readonly way?: number;
  /** Runs per alphabet. Default 2 (Koch: 2 runs x 10 alphabets x 20 queries = 400 trials). */
  readonly runsPerGroup?: number;
  readonly seed: number;
}

export interface WithinGroupRuns {
  readonly episodes: readonly Episode[];
  /** Groups with fewer than `way` usable classes, left out. */
  readonly skippedGroups: readonly string[];
}

/**
 * The 20-way within-alphabet protocol: for every group (in name order), `runsPerGroup` runs of
 * `way` characters. When the items carry drawers (Omniglot file names), a run picks two drawers
 * that both drew every chosen character: the queries are drawer A's images, the support drawer
 * B's. Without drawers, each character gives two distinct random images.
 */
export function withinGroupEpisodes(dataset: Dataset, options: WithinGroupOptions): WithinGroupRuns {
  const way = options.way ?? 20;
  const runs = options.runsPerGroup ?? 2;
  checkCount('way', way, 2);
  checkCount('runsPerGroup', runs, 1);
  const byClass = indicesByClass(dataset);
  const groups = new Map<string, number[]>();
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(c) as number[];
    const g = dataset.items[members[0] as number]?.group;
    if (g === undefined) continue;
    const list = groups.get(g);
    if (list) list.push(c);
    else groups.set(g, [c]);
  }
  if (groups.size === 0) {
    throw datasetError(
      'options',
      `episodes: within-group runs need grouped items (alphabet/character folders); '${dataset.name}' has no groups`,
    );
  }
  const out: Episode[] = [];
  const skipped: string[] = [];
  for (const [group, classes] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const rng = stream(options.seed, `within-group/${group}`);
    // drawer -> class -> item, for the classes with two or more images.
    const drawers = new Map<string, Map<number, number>>();
    let allHaveDrawers = true;
    const usable = classes.filter((c) => (byClass.get(c) as number[]).length >= 2);
    for (const c of usable) {
      for (const i of byClass.get(c) as number[]) {
        const d = dataset.items[i]?.drawer;
        if (d === undefined) {
          allHaveDrawers = false;
          continue;
        }
        const m = drawers.get(d) ?? new Map<number, number>();
        drawers.set(d, m);
        if (!m.has(c)) m.set(c, i);
      }
    }
    const drawerNames = [...drawers.keys()].sort();
    // Pairs of drawers that both drew at least `way` characters.
    const drawerPairs: [string, string, number[]][] = [];
    if (allHaveDrawers) {
      for (const a of drawerNames) {
        for (const b of drawerNames) {
          if (a === b) continue;
          const ma = drawers.get(a) as Map<number, number>;
          const mb = drawers.get(b) as Map<number, number>;
          const common = usable.filter((c) => ma.has(c) && mb.has(c));
          if (common.length >= way) drawerPairs.push([a, b, common]);
        }
      }
    }
    if (usable.length < way || (allHaveDrawers && drawerPairs.length === 0)) {
      skipped.push(group);
      continue;
    }
    for (let r = 0; r < runs; r++) {
      const support: number[] = [];
      const query: number[] = [];
      let chosen: number[];
      let pair: readonly [string, string] | undefined;
      if (allHaveDrawers) {
        const [a, b, common] = drawerPairs[rng.int(drawerPairs.length)] as [string, string, number[]];
        pair = [a, b];
        chosen = sample(common, way, rng);
        for (const c of chosen) {
          query.push(drawers.get(a)?.get(c) as number);
          support.push(drawers.get(b)?.get(c) as number);
        }
      } else {
        chosen = sample(usable, way, rng);
        for (const c of chosen) {
          const [q, s] = sample(byClass.get(c) as number[], 2, rng) as [number, number];
          query.push(q);
          support.push(s);
        }
      }
      const labels = chosen.map((_, e) => e);
      out.push({
        way,
        shot: 1,
        classes: chosen,
        group,
        ...(pair ? { drawers: pair } : {}),
        support,
        supportLabels: labels,
        query,
        queryLabels: labels,
      });
    }
  }
  if (out.length === 0) {
    throw datasetError(
      'too-few',
      `episodes: no group of '${dataset.name}' has ${way} characters drawn by two common drawers (groups: ${skipped.join(', ')})`,
    );
  }
  return { episodes: out, skippedGroups: skipped };
}

/** Every query against every support item: query.length x support.length labelled pairs, query-major. */
export function episodePairs(episode: Episode): Pair[] {
  const out: Pair[] = [];
  episode.query.forEach((q, i) => {
    episode.support.forEach((s, j) => {
      out.push({ a: q, b: s, same: episode.queryLabels[i] === episode.supportLabels[j] ? 1 : 0 });
    });
  });
  return out;
}

/**
 * Scores an episode: `scores[q * support.length + s]` is the similarity of query q and support s
 * (higher = more alike; the order of episodePairs). Returns how many queries were right, taking
 * the support class with the highest mean score.
 */
export function episodeCorrect(episode: Episode, scores: ArrayLike<number>): number {
  const ns = episode.support.length;
  if (scores.length !== episode.query.length * ns) {
    throw datasetError(
      'options',
      `episodes: ${scores.length} scores for ${episode.query.length} x ${ns} pairs`,
    );
  }
  let correct = 0;
  for (let q = 0; q < episode.query.length; q++) {
    const sum = new Float64Array(episode.way);
    const count = new Float64Array(episode.way);
    for (let s = 0; s < ns; s++) {
      const e = episode.supportLabels[s] as number;
      sum[e] = (sum[e] as number) + (scores[q * ns + s] as number);
      count[e] = (count[e] as number) + 1;
    }
    let best = 0;
    for (let e = 1; e < episode.way; e++)
      if ((sum[e] as number) / (count[e] as number) > (sum[best] as number) / (count[best] as number))
        best = e;
    if (best === episode.queryLabels[q]) correct++;
  }
  return correct;
}

/**
 * Balanced positive/negative pairs: every batch has exactly round(count x positiveFraction)
 * same-class pairs, in shuffled order. Positives pick a class uniformly among those with two or
 * more images, then two distinct images; negatives pick two distinct classes uniformly (within one
 * group, with `negatives: 'same-group'`, when the layout has groups), then one image of each.
 */
import type { Random } from '@siamese/core';
import { type Dataset, indicesByClass, type Pair } from '../dataset.js';
import { datasetError } from '../errors.js';
import { pick, shuffleInPlace, stream } from '../shuffle.js';

export interface PairSamplerOptions {
  readonly seed: number;
  /** Share of positive pairs in every batch. Default 0.5. */
  readonly positiveFraction?: number;
  /** `any` (default) or `same-group`: negatives from the same group (harder: same alphabet). */
  readonly negatives?: 'any' | 'same-group';
}

export class PairSampler {
  /** Classes with one image: they appear in negatives only. */
  readonly singleImageClasses: readonly string[];
  private readonly rng: Random;
  private readonly byClass: Map<number, number[]>;
  private readonly positiveClasses: number[];
  private readonly allClasses: number[];
  private readonly classesByGroup: Map<string, number[]>;
  private readonly groupOf: Map<number, string>;
  private readonly positiveFraction: number;
  private readonly negatives: 'any' | 'same-group';

  constructor(
    readonly dataset: Dataset,
    options: PairSamplerOptions,
  ) {
    this.positiveFraction = options.positiveFraction ?? 0.5;
    if (!(this.positiveFraction >= 0 && this.positiveFraction <= 1)) {
      throw datasetError(
        'options',
        `pairs: positiveFraction must be in [0, 1], got ${options.positiveFraction}`,
      );
    }
    this.negatives = options.negatives ?? 'any';
    this.rng = stream(options.seed, 'pairs');
    this.byClass = indicesByClass(dataset);
    this.allClasses = [...this.byClass.keys()].sort((a, b) => a - b);
    this.positiveClasses = this.allClasses.filter((c) => (this.byClass.get(c) as number[]).length >= 2);
    this.singleImageClasses = this.allClasses
      .filter((c) => (this.byClass.get(c) as number[]).length < 2)
      .map((c) => dataset.classes[c] ?? String(c));
    this.groupOf = new Map();
    this.classesByGroup = new Map();
    for (const c of this.allClasses) {
      const g = dataset.items[(this.byClass.get(c) as number[])[0] as number]?.group;
      if (g === undefined) continue;
      this.groupOf.set(c, g);
      const list = this.classesByGroup.get(g);
      if (list) list.push(c);
      else this.classesByGroup.set(g, [c]);
    }
    if (this.positiveFraction > 0 && this.positiveClasses.length === 0) {
      throw datasetError(
        'too-few',
        `pairs: no class of '${dataset.name}' has two images, so no positive pair can be drawn (${this.allClasses.length} classes of one image)`,
      );
    }
    if (this.positiveFraction < 1 && this.allClasses.length < 2) {
      throw datasetError(
        'too-few',
        `pairs: '${dataset.name}' has ${this.allClasses.length} class, so no negative pair can be drawn`,
      );
    }
    if (this.negatives === 'same-group' && ![...this.classesByGroup.values()].some((cs) => cs.length >= 2)) {
      throw datasetError(
        'too-few',
        `pairs: negatives 'same-group' needs a group with two classes; '${dataset.name}' has none`,
      );
    }
  }

  private positive(): Pair {
    const members = this.byClass.get(pick(this.positiveClasses, this.rng)) as number[];
    const i = this.rng.int(members.length);
    let j = this.rng.int(members.length - 1);
    if (j >= i) j++;
    return { a: members[i] as number, b: members[j] as number, same: 1 };
  }

  private negative(): Pair {
    let ca: number;
    let cb: number;
    if (this.negatives === 'same-group') {
      let pool: number[] | undefined;
      do {
        ca = pick(this.allClasses, this.rng);
        pool = this.classesByGroup.get(this.groupOf.get(ca) ?? '');
      } while (!pool || pool.length < 2);
      cb = pick(pool, this.rng);
      while (cb === ca) cb = pick(pool, this.rng);
    } else {
      const i = this.rng.int(this.allClasses.length);
      let j = this.rng.int(this.allClasses.length - 1);
      if (j >= i) j++;
      ca = this.allClasses[i] as number;
      cb = this.allClasses[j] as number;
    }
    return {
      a: pick(this.byClass.get(ca) as number[], this.rng),
      b: pick(this.byClass.get(cb) as number[], this.rng),
      same: 0,
    };
  }

  /** The next `count` pairs: exactly round(count x positiveFraction) positives, shuffled. */
  next(count: number): Pair[] {
    if (!Number.isInteger(count) || count < 1)
      throw datasetError('options', `pairs: count must be a positive integer, got ${count}`);
    const positives = Math.round(count * this.positiveFraction);
    const out: Pair[] = [];
    for (let k = 0; k < positives; k++) out.push(this.positive());
    for (let k = positives; k < count; k++) out.push(this.negative());
    return shuffleInPlace(out, this.rng);
  }
}

/** A fixed list of balanced pairs (evaluation pairs: draw them once, never augment them). */
export function samplePairs(dataset: Dataset, count: number, options: PairSamplerOptions): Pair[] {
  return new PairSampler(dataset, options).next(count);
}

/** Explicit pairs (a pair list's CSV), reshuffled per epoch with a seed, in batches. */
export class ListedPairs {
  private epoch = 0;
  constructor(
    readonly pairs: readonly Pair[],
    private readonly seed: number,
  ) {
    if (pairs.length === 0) throw datasetError('empty', 'pairs: the pair list is empty');
  }
  /** One epoch's pairs in a seeded order; each call is the next epoch. */
  nextEpoch(): Pair[] {
    return shuffleInPlace([...this.pairs], stream(this.seed, `listed-pairs/${this.epoch++}`));
  }
}

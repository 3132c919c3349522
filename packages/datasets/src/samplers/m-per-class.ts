/**
 * M-per-class batches (for metric losses and semi-hard mining): each batch is batchSize / m
 * distinct classes with m images each, class-major. A class with fewer than m images repeats some
 * (drawn with replacement); classes with one image cannot form a positive and are left out.
 */
import type { Random } from '@siamese/core';
import { type Dataset, indicesByClass } from '../dataset.js';
import { datasetError } from '../errors.js';
import { sample, stream } from '../shuffle.js';

export interface MPerClassOptions {
  readonly m: number;
  readonly batchSize: number;
  readonly seed: number;
}

export class MPerClassSampler {
  readonly classesPerBatch: number;
  /** Labels of the classes left out (fewer than two images). */
  readonly excluded: readonly number[];
  private readonly rng: Random;
  private readonly byClass: Map<number, number[]>;
  private readonly classes: number[];

  constructor(
    readonly dataset: Dataset,
    readonly options: MPerClassOptions,
  ) {
    const { m, batchSize } = options;
    if (!Number.isInteger(m) || m < 2)
      throw datasetError('options', `m-per-class: m must be an integer >= 2, got ${m}`);
    if (!Number.isInteger(batchSize) || batchSize < m || batchSize % m !== 0) {
      throw datasetError(
        'options',
        `m-per-class: batchSize must be a multiple of m = ${m}, got ${batchSize}`,
      );
    }
    this.rng = stream(options.seed, 'm-per-class');
    this.byClass = indicesByClass(dataset);
    const all = [...this.byClass.keys()].sort((a, b) => a - b);
    this.classes = all.filter((c) => (this.byClass.get(c) as number[]).length >= 2);
    this.excluded = all.filter((c) => (this.byClass.get(c) as number[]).length < 2);
    this.classesPerBatch = batchSize / m;
    if (this.classes.length < this.classesPerBatch) {
      throw datasetError(
        'too-few',
        `m-per-class: a batch of ${batchSize} with m = ${m} needs ${this.classesPerBatch} classes of two or more images; '${dataset.name}' has ${this.classes.length}`,
      );
    }
  }

  /** The next batch of item indices: classesPerBatch classes x m images, class-major. */
  next(): number[] {
    const out: number[] = [];
    for (const c of sample(this.classes, this.classesPerBatch, this.rng)) {
      const members = this.byClass.get(c) as number[];
      // Every image once before any repeats.
      const chosen = sample(members, this.options.m, this.rng);
      while (chosen.length < this.options.m) chosen.push(members[this.rng.int(members.length)] as number);
      out.push(...chosen);
    }
    return out;
  }
}

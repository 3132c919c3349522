/**
 * Training data: the source split into train / val / test (written as a manifest so the run can be
 * repeated and evaluated later), loaders, and the batch streams the training loop consumes.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Batch, isIdentityLoss, type Preprocessing } from '@siamese/core';
import type { Dataset, Pair, Split, SplitManifest } from '@siamese/datasets';
import { UsageError } from '../errors.js';
import { openData } from '../infer/data.js';
import type { TrainSettings } from './settings.js';

export const SPLIT_FILE = 'split.json';
/** The classes held out of training (--holdout-classes), as the `test` part of a manifest. */
export const OPEN_SET_FILE = 'split-openset.json';

export interface TrainingData {
  readonly description: string;
  readonly split: Split;
  readonly preprocessing: Preprocessing;
  /** Batches of one epoch (seeded by the epoch, so a resumed run sees the same pairs). */
  train(epoch: number): AsyncIterable<Batch>;
  readonly stepsPerEpoch: number;
  /** Pair batches of one epoch whatever the loss (the --then stage), and how many there are. */
  pairTrain(epoch: number): AsyncIterable<Batch>;
  readonly pairStepsPerEpoch: number;
  /** Fixed validation pairs, decoded once. */
  readonly validation: Batch[];
  readonly validationPairs: readonly Pair[];
  /** Fixed test pairs, decoded once. */
  readonly test: Batch[];
  readonly testPairs: readonly Pair[];
  /** Decodes pairs of one part (for sanity checks and thumbnails). */
  pairBatch(part: 'val' | 'test', pairs: readonly Pair[]): Promise<Batch>;
  /** The dataset of one part. */
  part(part: 'val' | 'test'): Dataset;
  /**
   * The dataset labels of the training classes, in order: an identity loss's classifier row k is
   * the class `trainClasses[k]`.
   */
  readonly trainClasses: readonly number[];
}

function asBatch(b: {
  x1: Batch['inputs'][string];
  x2: Batch['inputs'][string];
  labels: Batch['inputs'][string];
}): Batch {
  return { inputs: { x1: b.x1, x2: b.x2, labels: b.labels }, size: b.labels.shape[0] as number };
}

export async function openTrainingData(
  s: TrainSettings,
  out: string,
  warn: (line: string) => void,
): Promise<TrainingData> {
  const ds = await import('@siamese/datasets');
  const selection = await openData({ source: s.source });
  for (const w of selection.warnings.slice(0, 5)) warn(`warning: ${w.message}`);
  if (selection.layout === 'pairs') {
    throw new UsageError(
      `--data '${s.source}' is a list of pairs: training samples its own pairs from images grouped by class (a folder per class, or 'mnist'); use the CSV with 'siamese eval'`,
    );
  }
  if (selection.layout === 'flat')
    throw new UsageError(
      `--data '${s.source}' has no class folders: put each identity's images in a folder of its own`,
    );
  let dataset = selection.dataset;
  let description = selection.description;
  if (s.holdoutClasses > 0) {
    const before = dataset;
    dataset = await holdOut(dataset, s, out);
    const kept = new Set(dataset.items.map((i) => i.label));
    const held = before.classes.filter((_, k) => !kept.has(k) && before.items.some((i) => i.label === k));
    description += `; held out of training: ${held.join(', ')} (${(before.items.length - dataset.items.length).toLocaleString('en-US')} images, ${OPEN_SET_FILE})`;
  }
  const manifestPath = join(out, SPLIT_FILE);
  let split: Split;
  // Only a missing manifest means "split afresh": a damaged one must not be silently re-split,
  // which could move test images into training.
  const existing = s.resume
    ? await ds.readManifest(manifestPath).catch((e: unknown) => {
        if ((e as { code?: string }).code === 'not-found') return undefined;
        throw e;
      })
    : undefined;
  if (existing) {
    split = ds.applyManifest(dataset, existing, manifestPath);
  } else {
    split = ds.splitDataset(dataset, {
      by: s.splitBy,
      seed: s.seed,
      fractions: { train: 0.8, val: 0.1, test: 0.1 },
    });
    await mkdir(out, { recursive: true });
    await ds.writeManifest(manifestPath, split.manifest);
  }
  for (const part of ['train', 'val', 'test'] as const) {
    if (split[part].items.length < 2)
      throw new UsageError(
        `--data '${s.source}': the ${part} part of the split has ${split[part].items.length} images; add images or use --split-by image`,
      );
  }
  const preprocessing = ds.preprocessingFor(s.channels, s.height, s.width);
  const augment =
    s.augment === 'none'
      ? undefined
      : s.augment === 'koch'
        ? ds.KOCH_AFFINE
        : { ...ds.KOCH_AFFINE, ...ds.LIGHTING };
  const trainLoader = new ds.Loader(split.train, {
    preprocessing,
    seed: s.seed,
    ...(augment ? { augment } : {}),
  });
  const loaders = {
    val: new ds.Loader(split.val, { preprocessing, seed: s.seed }),
    test: new ds.Loader(split.test, { preprocessing, seed: s.seed }),
  };
  const trainClasses = [...new Set(split.train.items.map((i) => i.label))].sort((a, b) => a - b);
  const row = new Map(trainClasses.map((c, k) => [c, k]));
  const identity = isIdentityLoss({ kind: s.loss.kind })
    ? { m: imagesPerClass(s.batchSize, trainClasses.length) }
    : undefined;
  const pairStepsPerEpoch = Math.max(1, Math.floor(s.pairsPerEpoch / s.batchSize));
  // An identity loss's epoch is one pass over the training images; a pair loss's, --pairs-per-epoch pairs.
  const stepsPerEpoch = identity ? Math.ceil(split.train.items.length / s.batchSize) : pairStepsPerEpoch;
  async function* pairTrain(epoch: number): AsyncGenerator<Batch> {
    // A stream of its own for the --then stage, so its pairs do not repeat the first stage's seeds.
    const seed = s.seed * 1009 + epoch + (identity ? 7_919 : 0);
    const sampler = new ds.PairSampler(split.train, { seed });
    const source = (function* () {
      for (let i = 0; i < pairStepsPerEpoch; i++) yield sampler.next(s.batchSize);
    })();
    for await (const b of trainLoader.pairBatches(source, { train: true })) yield asBatch(b);
  }
  const fixedPairs = async (part: 'val' | 'test', seed: number) => {
    const pairs = new ds.PairSampler(split[part], { seed }).next(s.valPairs);
    const batches: Batch[] = [];
    for (const chunk of ds.chunks(pairs, 256)) batches.push(asBatch(await loaders[part].pairBatch(chunk)));
    return { pairs, batches };
  };
  const val = await fixedPairs('val', s.seed + 1_000_003);
  const test = await fixedPairs('test', s.seed + 2_000_003);
  return {
    description,
    split,
    preprocessing,
    stepsPerEpoch,
    validation: val.batches,
    validationPairs: val.pairs,
    test: test.batches,
    testPairs: test.pairs,
    part: (p) => split[p],
    pairBatch: async (p, pairs) => asBatch(await loaders[p].pairBatch(pairs)),
    trainClasses,
    async *train(epoch: number) {
      const seed = s.seed * 1009 + epoch;
      if (identity) {
        // Labelled images, m per class: every batch holds positives for each of its classes.
        const sampler = new ds.MPerClassSampler(split.train, { m: identity.m, batchSize: s.batchSize, seed });
        const source = (function* () {
          for (let i = 0; i < stepsPerEpoch; i++) yield sampler.next();
        })();
        for await (const b of trainLoader.imageBatches(source, { train: true })) {
          const labels = Float32Array.from(b.labels.data, (l) => row.get(l)!);
          yield {
            inputs: { images: b.x, labels: { dtype: 'float32', shape: [labels.length], data: labels } },
            size: labels.length,
          };
        }
        return;
      }
      if (s.loss.kind === 'triplet') {
        const sampler = new ds.TripletSampler(split.train, { seed });
        const source = (function* () {
          for (let i = 0; i < stepsPerEpoch; i++) yield sampler.next(s.batchSize);
        })();
        for await (const b of trainLoader.tripletBatches(source, { train: true })) {
          yield {
            inputs: { anchor: b.anchor, positive: b.positive, negative: b.negative },
            size: b.triplets.length,
          };
        }
        return;
      }
      yield* pairTrain(epoch);
    },
    pairTrain,
    pairStepsPerEpoch,
  };
}

/**
 * Images per class in an identity batch: the smallest m >= 2 that divides the batch into at most
 * as many classes as there are (more images per class when there are few classes).
 */
export function imagesPerClass(batchSize: number, classes: number): number {
  for (let m = 2; m <= batchSize; m++) if (batchSize % m === 0 && batchSize / m <= classes) return m;
  throw new UsageError(
    `--batch-size ${batchSize} cannot be split into batches of whole classes (m >= 2 images each of at most ${classes} classes): use a batch size with a divisor m for which batch / m <= ${classes}, such as ${2 * classes}`,
  );
}

/**
 * Keeps the last `holdoutClasses` classes (by class order) out of training: writes them as the
 * test part of OUT/split-openset.json for `siamese eval --split`, and returns the other classes.
 */
async function holdOut(dataset: Dataset, s: TrainSettings, out: string): Promise<Dataset> {
  const ds = await import('@siamese/datasets');
  const present = [...new Set(dataset.items.map((i) => i.label))].sort((a, b) => a - b);
  if (s.holdoutClasses > present.length - 2) {
    throw new UsageError(
      `--holdout-classes ${s.holdoutClasses} leaves fewer than 2 of the ${present.length} classes for training`,
    );
  }
  const held = new Set(present.slice(present.length - s.holdoutClasses));
  const keep: number[] = [];
  const heldItems: Dataset['items'][number][] = [];
  dataset.items.forEach((item, i) => {
    if (held.has(item.label)) heldItems.push(item);
    else keep.push(i);
  });
  const manifest: SplitManifest = {
    format: ds.SPLIT_FORMAT,
    formatVersion: ds.SPLIT_FORMAT_VERSION,
    dataset: dataset.name,
    by: 'class',
    seed: s.seed,
    fractions: { train: 0, val: 0, test: 1 },
    counts: {
      train: { items: 0, classes: 0 },
      val: { items: 0, classes: 0 },
      test: { items: heldItems.length, classes: held.size },
    },
    parts: { train: [], val: [], test: heldItems.map((i) => i.id) },
  };
  await mkdir(out, { recursive: true });
  await ds.writeManifest(join(out, OPEN_SET_FILE), manifest);
  return ds.subset(dataset, keep);
}

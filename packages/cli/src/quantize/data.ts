/**
 * Which images calibrate an int8 model and which pairs judge it. With a split manifest (named with
 * --split, or the one the model was trained with, found beside its folder and matched by hash) the
 * validation part calibrates the ranges and re-fits the threshold, and the test part, which neither
 * saw, is where int8 is compared with fp32. Without one, the data is halved, seeded: one half
 * calibrates, the other judges. The test part of a split never calibrates anything.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type ModelArtifact, Random } from '@siamese/core';
import type { Dataset, Pair } from '@siamese/datasets';
import { UsageError } from '../errors.js';
import { count, type DataSelection, openData, reportWarnings } from '../infer/data.js';
import { planPairs } from '../infer/eval-plan.js';
import { isSkipped } from '../infer/eval-report.js';
import type { Output } from '../io.js';

/** Fewer images than this cannot give a range worth trusting. */
export const MIN_CALIBRATION_IMAGES = 32;

export interface ScoredPairs {
  readonly dataset: Dataset;
  readonly pairs: readonly Pair[];
  readonly description: string;
}

export interface QuantizationData {
  /** Images the ranges are observed on: `indices` of `dataset`. */
  readonly calibration: {
    readonly dataset: Dataset;
    readonly indices: number[];
    readonly description: string;
  };
  /** Pairs of the calibration part: the int8 threshold is fitted on them. */
  readonly thresholdPairs: ScoredPairs;
  /** Pairs neither calibration nor the threshold saw: where int8 is compared with fp32. */
  readonly heldOut: ScoredPairs;
}

export interface QuantizationDataRequest {
  readonly source: string;
  /** An explicit split manifest (--split). */
  readonly split?: string;
  readonly images: number;
  readonly pairs: number;
  readonly seed: number;
}

/** The split manifest the model was trained with, when it sits beside the model folder unchanged. */
async function trainingSplit(
  modelDir: string,
  artifact: ModelArtifact,
  source: string,
): Promise<string | undefined> {
  const data = (artifact.provenance as { data?: { source?: unknown; split?: unknown } } | undefined)?.data;
  if (typeof data?.split !== 'string' || typeof data.source !== 'string') return undefined;
  const same = data.source === source || resolve(data.source) === resolve(source);
  if (!same) return undefined;
  const path = join(dirname(resolve(modelDir)), 'split.json');
  const bytes = await readFile(path).catch(() => undefined);
  if (!bytes) return undefined;
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` === data.split ? path : undefined;
}

function shuffled(n: number, rng: Random): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Half of the data's items (or of a CSV's listed pairs), seeded; `which` 0 or 1. */
function half(sel: DataSelection, which: 0 | 1, seed: number): DataSelection {
  const rng = Random.forName(seed, 'quantize/halves');
  if (sel.pairs) {
    const order = shuffled(sel.pairs.length, rng);
    const cut = Math.floor(order.length / 2);
    const pairs = (which === 0 ? order.slice(0, cut) : order.slice(cut)).map((i) => sel.pairs![i]!);
    return {
      ...sel,
      pairs,
      description: `${which === 0 ? 'one' : 'the other'} half of the listed pairs of ${sel.dataset.name}`,
    };
  }
  const order = shuffled(sel.dataset.items.length, rng);
  const cut = Math.floor(order.length / 2);
  const keep = (which === 0 ? order.slice(0, cut) : order.slice(cut)).sort((a, b) => a - b);
  const dataset = { ...sel.dataset, items: keep.map((i) => sel.dataset.items[i]!) };
  return {
    ...sel,
    dataset,
    description: `${which === 0 ? 'one' : 'the other'} half of ${sel.dataset.name} (${count(keep.length, 'image')}, seeded)`,
  };
}

/** The items the calibration observes: the images of the part's pairs for a CSV, else its items. */
function calibrationIndices(sel: DataSelection, images: number, seed: number): number[] {
  const pool = sel.pairs
    ? [...new Set(sel.pairs.flatMap((p) => [p.a, p.b]))].sort((a, b) => a - b)
    : sel.dataset.items.map((_, i) => i);
  const order = shuffled(pool.length, Random.forName(seed, 'quantize/calibration'));
  return order
    .slice(0, images)
    .map((k) => pool[k]!)
    .sort((a, b) => a - b);
}

async function pairsOf(sel: DataSelection, n: number, seed: number, role: string): Promise<ScoredPairs> {
  const plan = await planPairs(sel, { pairs: n, seed, far: 0.001, episodes: 0, gallery: 0, batchSize: 1 });
  if (isSkipped(plan)) throw new UsageError(`--calibrate: ${role} (${sel.description}): ${plan.skipped}`);
  return { dataset: sel.dataset, pairs: plan.pairs, description: sel.description };
}

export async function quantizationData(
  modelDir: string,
  artifact: ModelArtifact,
  req: QuantizationDataRequest,
  io: Output,
): Promise<QuantizationData> {
  const split = req.split ?? (await trainingSplit(modelDir, artifact, req.source));
  let calibrationPart: DataSelection;
  let heldOutPart: DataSelection;
  if (split !== undefined) {
    if (req.split === undefined)
      io.out(
        `calibration data: the validation part of ${split}, the split the model was trained with; its test part judges int8`,
      );
    calibrationPart = await openData({ source: req.source, split, part: 'val' });
    heldOutPart = await openData({ source: req.source, split, part: 'test' });
    reportWarnings(calibrationPart.warnings, io.err);
  } else {
    const whole = await openData({ source: req.source });
    reportWarnings(whole.warnings, io.err);
    const images = whole.dataset.items.length;
    if (images < 2 * MIN_CALIBRATION_IMAGES) {
      throw new UsageError(
        `--calibrate ${req.source} has ${count(images, 'image')}; int8 needs at least ${MIN_CALIBRATION_IMAGES} to calibrate on and as many again held out to judge it (${2 * MIN_CALIBRATION_IMAGES} in all)`,
      );
    }
    calibrationPart = half(whole, 0, req.seed);
    heldOutPart = half(whole, 1, req.seed);
  }
  const indices = calibrationIndices(calibrationPart, req.images, req.seed);
  if (indices.length < MIN_CALIBRATION_IMAGES) {
    throw new UsageError(
      `--calibrate ${req.source}: ${calibrationPart.description} has ${count(indices.length, 'image')}; calibration needs at least ${MIN_CALIBRATION_IMAGES}`,
    );
  }
  if (indices.length < req.images) {
    io.err(
      `warning: --calibration-images ${req.images}: ${calibrationPart.description} has only ${indices.length}; calibrating on those`,
    );
  }
  return {
    calibration: { dataset: calibrationPart.dataset, indices, description: calibrationPart.description },
    thresholdPairs: await pairsOf(calibrationPart, req.pairs, req.seed, 'threshold pairs'),
    heldOut: await pairsOf(heldOutPart, req.pairs, req.seed + 1, 'held-out pairs'),
  };
}

/**
 * Seeded splits, written to a manifest so a run can be repeated:
 * - `class` (open-set): whole classes go to train, val or test, for one-shot evaluation on classes
 *   the model never saw;
 * - `group`: whole groups (Omniglot alphabets: background vs evaluation);
 * - `image` (closed-set): every class is split by its images, so all classes appear in every part.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@siamese/core';
import { type Dataset, indicesByClass, subset } from './dataset.js';
import { datasetError } from './errors.js';
import { shuffleInPlace, stream } from './shuffle.js';

export type SplitBy = 'class' | 'group' | 'image';
export type SplitPart = 'train' | 'val' | 'test';
export const SPLIT_PARTS: readonly SplitPart[] = ['train', 'val', 'test'];

export interface SplitFractions {
  readonly train: number;
  readonly val?: number;
  readonly test: number;
}

export interface SplitOptions {
  readonly by: SplitBy;
  readonly seed: number;
  /** Shares of the classes, groups or (per class) images; normalized to sum 1. Default 0.7 / 0.1 / 0.2. */
  readonly fractions?: SplitFractions;
}

export const SPLIT_FORMAT = 'siamese-split';
export const SPLIT_FORMAT_VERSION = 1;

/** Everything needed to rebuild a split exactly: the item ids of every part. */
export interface SplitManifest {
  readonly format: typeof SPLIT_FORMAT;
  readonly formatVersion: typeof SPLIT_FORMAT_VERSION;
  readonly dataset: string;
  readonly by: SplitBy;
  readonly seed: number;
  readonly fractions: Required<SplitFractions>;
  readonly counts: Readonly<Record<SplitPart, { readonly items: number; readonly classes: number }>>;
  readonly parts: Readonly<Record<SplitPart, readonly string[]>>;
}

export interface Split {
  readonly train: Dataset;
  readonly val: Dataset;
  readonly test: Dataset;
  readonly manifest: SplitManifest;
}

function normalizeFractions(f: SplitFractions | undefined): Required<SplitFractions> {
  const raw = { train: f?.train ?? 0.7, val: f?.val ?? (f ? 0 : 0.1), test: f?.test ?? 0.2 };
  for (const [k, v] of Object.entries(raw)) {
    if (!(v >= 0 && Number.isFinite(v)))
      throw datasetError('options', `split: fractions.${k} must be a number >= 0, got ${v}`);
  }
  const sum = raw.train + raw.val + raw.test;
  if (!(sum > 0) || raw.train === 0) throw datasetError('options', 'split: fractions.train must be > 0');
  return { train: raw.train / sum, val: raw.val / sum, test: raw.test / sum };
}

/**
 * How many of `n` go to each part: largest remainder, then every part with a non-zero share gets
 * at least one while train keeps at least one.
 */
export function partSizes(n: number, f: Required<SplitFractions>): Record<SplitPart, number> {
  const exact = SPLIT_PARTS.map((p) => f[p] * n);
  const sizes = exact.map(Math.floor);
  let left = n - sizes.reduce((s, v) => s + v, 0);
  const order = [0, 1, 2].sort(
    (i, j) =>
      (exact[j] as number) - (sizes[j] as number) - ((exact[i] as number) - (sizes[i] as number)) || i - j,
  );
  for (const i of order) {
    if (left <= 0) break;
    sizes[i] = (sizes[i] as number) + 1;
    left--;
  }
  for (const i of [2, 1]) {
    if (f[SPLIT_PARTS[i] as SplitPart] > 0 && sizes[i] === 0 && (sizes[0] as number) > 1) {
      sizes[i] = 1;
      sizes[0] = (sizes[0] as number) - 1;
    }
  }
  return { train: sizes[0] as number, val: sizes[1] as number, test: sizes[2] as number };
}

function buildSplit(
  dataset: Dataset,
  by: SplitBy,
  seed: number,
  fractions: Required<SplitFractions>,
  parts: Record<SplitPart, number[]>,
): Split {
  const datasets = {} as Record<SplitPart, Dataset>;
  const counts = {} as Record<SplitPart, { items: number; classes: number }>;
  const ids = {} as Record<SplitPart, string[]>;
  for (const p of SPLIT_PARTS) {
    const indices = parts[p].sort((a, b) => a - b);
    datasets[p] = subset(dataset, indices, `${dataset.name}#${p}`);
    counts[p] = { items: indices.length, classes: new Set(indices.map((i) => dataset.items[i]?.label)).size };
    ids[p] = indices.map((i) => dataset.items[i]?.id as string);
  }
  return {
    ...datasets,
    manifest: {
      format: SPLIT_FORMAT,
      formatVersion: SPLIT_FORMAT_VERSION,
      dataset: dataset.name,
      by,
      seed,
      fractions,
      counts,
      parts: ids,
    },
  } as Split;
}

export function splitDataset(dataset: Dataset, options: SplitOptions): Split {
  const fractions = normalizeFractions(options.fractions);
  const { by, seed } = options;
  if (dataset.items.length === 0)
    throw datasetError('empty', `split: dataset '${dataset.name}' has no items`);
  const parts: Record<SplitPart, number[]> = { train: [], val: [], test: [] };
  const byClass = indicesByClass(dataset);
  if (by === 'class' || by === 'group') {
    // Units (classes or groups) in a fixed order, shuffled, cut by the fractions.
    const unitOf = (i: number) => {
      const item = dataset.items[i];
      if (by === 'class') return String(item?.label);
      if (item?.group === undefined) {
        throw datasetError(
          'options',
          `split: by 'group' needs grouped items (alphabet/character folders); '${item?.id}' has no group`,
        );
      }
      return item.group;
    };
    const units = new Map<string, number[]>();
    dataset.items.forEach((_, i) => {
      const u = unitOf(i);
      const list = units.get(u);
      if (list) list.push(i);
      else units.set(u, [i]);
    });
    const keys = [...units.keys()].sort();
    const what = by === 'class' ? 'classes' : 'groups';
    if (keys.length < 2)
      throw datasetError(
        'too-few',
        `split: by '${by}' needs at least 2 ${what}; '${dataset.name}' has ${keys.length}`,
      );
    shuffleInPlace(keys, stream(seed, `split/${by}`));
    const sizes = partSizes(keys.length, fractions);
    let at = 0;
    for (const p of SPLIT_PARTS) {
      for (const k of keys.slice(at, at + sizes[p])) parts[p].push(...(units.get(k) as number[]));
      at += sizes[p];
    }
  } else if (by === 'image') {
    for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
      const indices = shuffleInPlace(
        [...(byClass.get(label) as number[])],
        stream(seed, `split/image/${dataset.classes[label]}`),
      );
      const sizes = partSizes(indices.length, fractions);
      parts.train.push(...indices.slice(0, sizes.train));
      parts.val.push(...indices.slice(sizes.train, sizes.train + sizes.val));
      parts.test.push(...indices.slice(sizes.train + sizes.val));
    }
  } else {
    throw datasetError('options', `split: by must be 'class', 'group' or 'image', got ${JSON.stringify(by)}`);
  }
  return buildSplit(dataset, by, seed, fractions, parts);
}

/** Rebuilds a split from its manifest; every id must be in the dataset. */
export function applyManifest(dataset: Dataset, manifest: SplitManifest, source = 'manifest'): Split {
  const index = new Map(dataset.items.map((it, i) => [it.id, i]));
  const parts: Record<SplitPart, number[]> = { train: [], val: [], test: [] };
  const seen = new Set<string>();
  for (const p of SPLIT_PARTS) {
    for (const id of manifest.parts[p]) {
      const i = index.get(id);
      if (i === undefined) {
        throw datasetError(
          'manifest',
          `${p} item '${id}' is not in dataset '${dataset.name}' (was it moved or renamed?)`,
          source,
        );
      }
      if (seen.has(id)) throw datasetError('manifest', `item '${id}' is in more than one part`, source);
      seen.add(id);
      parts[p].push(i);
    }
  }
  return buildSplit(dataset, manifest.by, manifest.seed, manifest.fractions, parts);
}

/** Writes the manifest atomically (temp file, fsync, rename). */
export async function writeManifest(path: string, manifest: SplitManifest): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(manifest, null, 1)}\n`));
}

/** Reads and checks a manifest; every problem is one line naming the file. */
export async function readManifest(path: string): Promise<SplitManifest> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) throw datasetError('not-found', 'split manifest does not exist', path);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw datasetError('manifest', `not valid JSON (${(e as Error).message})`, path, e);
  }
  const m = raw as Partial<SplitManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== SPLIT_FORMAT) {
    throw datasetError('manifest', `not a split manifest (format is not '${SPLIT_FORMAT}')`, path);
  }
  if (m.formatVersion !== SPLIT_FORMAT_VERSION) {
    throw datasetError(
      'manifest',
      `formatVersion ${JSON.stringify(m.formatVersion)}; this version reads ${SPLIT_FORMAT_VERSION}`,
      path,
    );
  }
  if (m.by !== 'class' && m.by !== 'group' && m.by !== 'image')
    throw datasetError('manifest', `'by' is ${JSON.stringify(m.by)}`, path);
  for (const p of SPLIT_PARTS) {
    const ids = m.parts?.[p];
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
      throw datasetError('manifest', `parts.${p} must be a list of item ids`, path);
    }
  }
  return m as SplitManifest;
}

/**
 * A data SOURCE as the user names it (`mnist`, a folder, a CSV of pairs), opened with datasets'
 * sources, optionally narrowed to one part of a split manifest.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { CheckLevel, Dataset, DatasetWarning, Item, Pair, SplitPart } from '@siamese/datasets';
import { UsageError } from '../errors.js';

export interface DataRequest {
  /** `mnist`, a folder or a CSV file. */
  readonly source: string;
  /** A split manifest, and the part of it to use. */
  readonly split?: string;
  readonly part?: SplitPart;
  /** Decode every image up front and leave out unreadable ones (each a warning). */
  readonly skipInvalid?: boolean;
  /**
   * How a folder or CSV source checks its files when opened (default: headers, failing on the first
   * bad one; `full` with skipInvalid). `none` leaves them to the caller: lint names every bad file.
   */
  readonly check?: CheckLevel;
  /** Accept a folder of images without class folders (embed's gallery). */
  readonly allowFlat?: boolean;
}

export type Layout = 'mnist' | 'classes' | 'groups' | 'pairs' | 'flat';

export interface DataSelection {
  readonly dataset: Dataset;
  readonly layout: Layout;
  /** A CSV's listed pairs (indices into `dataset.items`), when the source has them. */
  readonly pairs?: readonly Pair[];
  /** One line: what was opened. */
  readonly description: string;
  /** Warnings of the source (skipped files, classes of one image, ...). */
  readonly warnings: readonly DatasetWarning[];
}

export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}

/** The number of classes that have items (a split part keeps the full class list). */
export function classesPresent(d: Dataset): number {
  return new Set(d.items.map((i) => i.label)).size;
}

async function flatFolder(
  dir: string,
  skipInvalid: boolean,
  warnings: DatasetWarning[],
): Promise<Dataset | undefined> {
  const { IMAGE_EXTENSIONS, probeImage, verifyImage, DatasetError } = await import('@siamese/datasets');
  const entries = await readdir(dir, { withFileTypes: true });
  const visible = entries.filter((e) => !e.name.startsWith('.'));
  if (visible.some((e) => e.isDirectory())) return undefined;
  const names = visible
    .filter(
      (e) => (e.isFile() || e.isSymbolicLink()) && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase()),
    )
    .map((e) => e.name)
    .sort();
  if (names.length === 0) return undefined;
  const items: Item[] = [];
  for (let i = 0; i < names.length; i += 8) {
    const chunk = names.slice(i, i + 8);
    const checked = await Promise.allSettled(
      chunk.map((name) => (skipInvalid ? verifyImage(join(dir, name)) : probeImage(join(dir, name)))),
    );
    // In name order, so the error reported is always the same one.
    checked.forEach((c, k) => {
      const path = join(dir, chunk[k]!);
      if (c.status === 'fulfilled') items.push({ id: chunk[k]!, path, label: 0, className: '' });
      else if (skipInvalid && c.reason instanceof DatasetError) {
        warnings.push({ code: 'invalid-image', file: path, message: `${c.reason.message} (skipped)` });
      } else throw c.reason;
    });
  }
  if (items.length === 0) throw new UsageError(`folder '${dir}' has no readable images`);
  return { name: dir, classes: [''], items, warnings };
}

/** `mnist:0-4` or `mnist:1,3,5-7`: some of the digits (a pretraining set, a held-out set). */
export function mnistDigits(source: string): number[] {
  const spec = source.slice('mnist:'.length);
  const digits = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^([0-9])(?:-([0-9]))?$/.exec(part.trim());
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1])))
      throw new UsageError(
        `data '${source}': '${part}' is not a digit or a range of digits (e.g. mnist:0-4 or mnist:1,3,5-7)`,
      );
    for (let d = Number(m[1]); d <= Number(m[2] ?? m[1]); d++) digits.add(d);
  }
  return [...digits].sort((a, b) => a - b);
}

async function openSource(
  req: DataRequest,
): Promise<{ dataset: Dataset; layout: Layout; pairs?: readonly Pair[] }> {
  const ds = await import('@siamese/datasets');
  const { source } = req;
  if (source === 'mnist') return { dataset: await ds.mnist(), layout: 'mnist' };
  if (source.startsWith('mnist:') && /^[0-9]/.test(source.slice(6))) {
    return { dataset: await ds.mnist({ digits: mnistDigits(source) }), layout: 'mnist' };
  }
  if (source.startsWith('mnist:')) {
    throw new UsageError(
      `data '${source}': name a held-out part with --split FILE --part ${source.slice(6) || 'test'} (and data 'mnist')`,
    );
  }
  const path = resolve(source);
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new UsageError(
      `data '${source}': no such file or folder (expected 'mnist', a folder of images or a CSV of pairs)`,
    );
  }
  // skipInvalid alone decodes every image up front (that is its point); an explicit check overrides.
  const check = {
    ...(req.skipInvalid ? { check: 'full' as const, skipInvalid: true } : {}),
    ...(req.check ? { check: req.check } : {}),
  };
  if (info.isDirectory()) {
    if (req.allowFlat) {
      const warnings: DatasetWarning[] = [];
      const flat = await flatFolder(path, req.skipInvalid ?? false, warnings);
      if (flat) return { dataset: flat, layout: 'flat' };
    }
    const dataset = await ds.imageFolder(source, check);
    return { dataset, layout: dataset.groups ? 'groups' : 'classes' };
  }
  const dataset = await ds.pairList(source, check);
  return { dataset, layout: 'pairs', pairs: dataset.pairs };
}

function describe(d: Dataset, layout: Layout): string {
  const parts = [count(d.items.length, 'image')];
  if (layout !== 'flat') parts.push(count(classesPresent(d), 'class', 'classes'));
  const groups = new Set(d.items.map((i) => i.group).filter((g) => g !== undefined)).size;
  if (layout === 'groups') parts.push(`${count(groups, 'alphabet')} (Omniglot layout: alphabet/character)`);
  if (layout === 'flat') parts.push('no class folders');
  return `${d.name}: ${parts.join(', ')}`;
}

/** Opens the source, then the part of the split when one is named. */
export async function openData(req: DataRequest): Promise<DataSelection> {
  const opened = await openSource(req);
  let { dataset, pairs } = opened;
  let description = describe(dataset, opened.layout);
  const warnings = [...dataset.warnings];
  if (req.split !== undefined) {
    const ds = await import('@siamese/datasets');
    const part = req.part ?? 'test';
    const manifest = await ds.readManifest(req.split);
    const whole = dataset;
    dataset = ds.applyManifest(whole, manifest, req.split)[part];
    if (dataset.items.length === 0) {
      throw new UsageError(`split '${req.split}' has no ${part} items (parts: ${ds.SPLIT_PARTS.join(', ')})`);
    }
    if (pairs) {
      // Listed pairs whose two images are both in the part, renumbered.
      const index = new Map(dataset.items.map((it, i) => [it.id, i]));
      pairs = pairs.flatMap((p) => {
        const a = index.get(whole.items[p.a]?.id ?? '');
        const b = index.get(whole.items[p.b]?.id ?? '');
        return a === undefined || b === undefined ? [] : [{ a, b, same: p.same }];
      });
    }
    description = `${describe(dataset, opened.layout)} (part '${part}' of split ${req.split}, by ${manifest.by})`;
  }
  return { dataset, layout: opened.layout, ...(pairs ? { pairs } : {}), description, warnings };
}

/** Prints a source's warnings to stderr: the first few, then how many more. */
export function reportWarnings(
  warnings: readonly DatasetWarning[],
  err: (line: string) => void,
  max = 5,
): void {
  for (const w of warnings.slice(0, max)) err(`warning: ${w.message}`);
  if (warnings.length > max) err(`warning: ... and ${warnings.length - max} more`);
}

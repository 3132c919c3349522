/**
 * `lint(dataset)`: everything that would spoil training, before it starts. Decodes every image
 * (naming each corrupt, truncated, empty or non-image file), reports classes with one image (no
 * positive pair), empty datasets, the source's own warnings, and exact duplicate images by hash:
 * an error when a duplicate crosses split parts (a test image the model trained on).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Dataset, Item } from './dataset.js';
import { DEFAULT_PIXEL_LIMIT, verifyImage } from './decode.js';
import { DatasetError } from './errors.js';
import { mapLimit } from './sources/files.js';
import { SPLIT_PARTS, type Split, type SplitPart } from './split.js';

export type LintCode =
  | 'empty'
  | 'invalid-image'
  | 'pixel-limit'
  | 'not-found'
  | 'single-image-class'
  | 'empty-class'
  | 'ignored-file'
  | 'duplicate'
  | 'duplicate-labels'
  | 'duplicate-across-splits';

export interface LintIssue {
  readonly severity: 'error' | 'warning';
  readonly code: LintCode;
  /** The file (or item id) at fault, when there is one. */
  readonly file?: string;
  /** One line. */
  readonly message: string;
}

export interface LintReport {
  readonly images: number;
  readonly classes: number;
  readonly issues: readonly LintIssue[];
  /** No errors (warnings allowed). */
  readonly ok: boolean;
}

export interface LintOptions {
  /** Decode every image (catches truncated files). Default true. */
  readonly decode?: boolean;
  readonly pixelLimit?: number;
  /** Files read at once. Default 8. */
  readonly concurrency?: number;
}

interface Entry {
  readonly item: Item;
  readonly part?: SplitPart;
}

function isSplit(x: Dataset | Split): x is Split {
  return 'manifest' in x && 'train' in x;
}

async function hashItem(item: Item): Promise<string | undefined> {
  const h = createHash('sha256');
  if (item.path !== undefined) {
    const bytes = await readFile(item.path).catch(() => undefined);
    if (!bytes) return undefined;
    h.update(bytes);
  } else if (item.pixels) {
    h.update(`${item.pixels.width}x${item.pixels.height}x${item.pixels.channels}:`);
    h.update(item.pixels.data);
  } else return undefined;
  return h.digest('hex');
}

export async function lint(target: Dataset | Split, options: LintOptions = {}): Promise<LintReport> {
  const parts: [SplitPart | undefined, Dataset][] = isSplit(target)
    ? SPLIT_PARTS.map((p) => [p, target[p]] as [SplitPart, Dataset])
    : [[undefined, target]];
  const issues: LintIssue[] = [];
  const seen = new Set<string>();
  const add = (issue: LintIssue) => {
    const key = `${issue.code}|${issue.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    issues.push(issue);
  };

  const entries: Entry[] = [];
  const classNames = new Set<string>();
  for (const [part, ds] of parts) {
    for (const w of ds.warnings) {
      add({
        severity:
          w.code === 'ignored-file' || w.code === 'single-image-class' || w.code === 'empty-class'
            ? 'warning'
            : 'error',
        code: w.code,
        ...(w.file !== undefined ? { file: w.file } : {}),
        message: w.message,
      });
    }
    for (const item of ds.items) {
      entries.push({ item, ...(part ? { part } : {}) });
      classNames.add(item.className);
    }
    if (ds.items.length === 0 && !(part === 'val' || part === 'test')) {
      add({ severity: 'error', code: 'empty', message: `dataset: '${ds.name}' has no images` });
    }
  }
  if (entries.length === 0) add({ severity: 'error', code: 'empty', message: 'dataset: no images at all' });

  // One image per class, counted over the whole dataset (all parts).
  const perClass = new Map<string, Item[]>();
  for (const { item } of entries) {
    const list = perClass.get(item.className);
    if (list) list.push(item);
    else perClass.set(item.className, [item]);
  }
  for (const [className, items] of perClass) {
    if (items.length === 1) {
      const only = items[0] as Item;
      add({
        severity: 'warning',
        code: 'single-image-class',
        file: only.path ?? only.id,
        message: `dataset: class '${className}' has one image (${only.id}): it cannot give a positive pair`,
      });
    }
  }

  const pixelLimit = options.pixelLimit ?? DEFAULT_PIXEL_LIMIT;
  const results = await mapLimit(entries, options.concurrency ?? 8, async ({ item }) => {
    let error: DatasetError | undefined;
    if ((options.decode ?? true) && item.path !== undefined) {
      try {
        await verifyImage(item.path, { pixelLimit });
      } catch (e) {
        if (!(e instanceof DatasetError)) throw e;
        error = e;
      }
    }
    return { error, hash: await hashItem(item) };
  });
  results.forEach(({ error }, i) => {
    if (!error) return;
    const item = (entries[i] as Entry).item;
    const code = error.code === 'pixel-limit' || error.code === 'not-found' ? error.code : 'invalid-image';
    add({ severity: 'error', code, file: item.path ?? item.id, message: error.message });
  });

  // Exact duplicates: the same bytes (or pixels) under more than one id.
  const byHash = new Map<string, Entry[]>();
  results.forEach(({ hash }, i) => {
    if (!hash) return;
    const list = byHash.get(hash);
    if (list) list.push(entries[i] as Entry);
    else byHash.set(hash, [entries[i] as Entry]);
  });
  for (const group of byHash.values()) {
    if (group.length < 2) continue;
    const names = group.map((e) => (e.part ? `${e.item.id} (${e.part})` : e.item.id)).join(', ');
    const first = group[0] as Entry;
    const file = first.item.path ?? first.item.id;
    if (new Set(group.map((e) => e.part)).size > 1) {
      add({
        severity: 'error',
        code: 'duplicate-across-splits',
        file,
        message: `dataset: identical images in different split parts: ${names} (evaluation would score images seen in training)`,
      });
    } else if (new Set(group.map((e) => e.item.label)).size > 1) {
      add({
        severity: 'warning',
        code: 'duplicate-labels',
        file,
        message: `dataset: identical images in different classes: ${group.map((e) => `${e.item.id} [${e.item.className}]`).join(', ')}`,
      });
    } else {
      add({ severity: 'warning', code: 'duplicate', file, message: `dataset: identical images: ${names}` });
    }
  }

  return {
    images: entries.length,
    classes: classNames.size,
    issues,
    ok: !issues.some((i) => i.severity === 'error'),
  };
}

/** One line per issue, errors first, then a summary line. */
export function formatLint(report: LintReport): string {
  const sorted = [...report.issues].sort((a, b) =>
    a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1,
  );
  const errors = report.issues.filter((i) => i.severity === 'error').length;
  const lines = sorted.map((i) => `${i.severity}: ${i.message}`);
  lines.push(
    `${report.images} images, ${report.classes} classes: ${errors} error${errors === 1 ? '' : 's'}, ${report.issues.length - errors} warning${report.issues.length - errors === 1 ? '' : 's'}`,
  );
  return lines.join('\n');
}

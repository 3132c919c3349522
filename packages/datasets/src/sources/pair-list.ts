/**
 * `pairList(csv)`: explicit labelled pairs, one `a,b,label` row each, paths relative to the CSV
 * (like LFW's pairs files). A header row is optional; labels are 1/0, same/different, true/false
 * or yes/no. The items' classes are their folders (LFW's `<person>/<image>`); the pairs' labels
 * come from the CSV.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, posix, relative, resolve, sep } from 'node:path';
import type { Dataset, DatasetWarning, Item, Pair } from '../dataset.js';
import { datasetError } from '../errors.js';
import { checkFiles, type FileSourceOptions } from './files.js';

export interface PairListOptions extends FileSourceOptions {
  /** Name for messages and manifests. Default: the CSV path as given. */
  readonly name?: string;
}

export interface PairListDataset extends Dataset {
  /** The CSV's pairs in file order, as indices into `items`. */
  readonly pairs: readonly Pair[];
}

const LABELS: Record<string, 0 | 1> = {
  '1': 1,
  '0': 0,
  same: 1,
  different: 0,
  true: 1,
  false: 0,
  yes: 1,
  no: 0,
};

/** Splits one CSV line into fields: commas separate, double quotes quote, `""` is a quote. */
export function parseCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === ',') {
      fields.push(field.trim());
      field = '';
    } else field += ch;
  }
  if (quoted) return undefined;
  fields.push(field.trim());
  return fields;
}

export async function pairList(csvPath: string, options: PairListOptions = {}): Promise<PairListDataset> {
  const name = options.name ?? csvPath;
  const csv = resolve(csvPath);
  const info = await stat(csv).catch(() => undefined);
  if (!info) throw datasetError('not-found', 'pairs file does not exist', csv);
  if (!info.isFile()) throw datasetError('not-found', 'pairs file is a folder, not a CSV file', csv);
  const text = await readFile(csv, 'utf8');
  const base = dirname(csv);
  const warnings: DatasetWarning[] = [];
  const warn = (w: DatasetWarning) => {
    warnings.push(w);
    options.onWarning?.(w);
  };

  interface Row {
    readonly line: number;
    readonly a: string;
    readonly b: string;
    readonly same: 0 | 1;
  }
  const rows: Row[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let first = true;
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const at = `${csv}:${line}`;
    const fields = parseCsvLine(raw);
    if (!fields) throw datasetError('csv', 'unterminated quote', at);
    const wasFirst = first;
    first = false;
    if (fields.length !== 3) {
      throw datasetError(
        'csv',
        `expected 3 fields 'a,b,label', got ${fields.length}: ${JSON.stringify(raw)}`,
        at,
      );
    }
    const [a, b, label] = fields as [string, string, string];
    const same = LABELS[label.toLowerCase()];
    if (same === undefined) {
      if (wasFirst) continue; // a header row
      throw datasetError(
        'csv',
        `label ${JSON.stringify(label)} is not 1/0 (or same/different, true/false, yes/no)`,
        at,
      );
    }
    if (a === '' || b === '') throw datasetError('csv', 'an image path is empty', at);
    rows.push({ line, a, b, same });
  }
  if (rows.length === 0)
    throw datasetError('empty', "pairs file has no pairs (expected rows 'a,b,label')", csv);

  // Every distinct path once; rows pointing nowhere fail (or are dropped with a warning).
  const toId = (p: string) => relative(base, resolve(base, p)).split(sep).join('/');
  const paths = new Map<string, string>();
  for (const r of rows) for (const p of [r.a, r.b]) paths.set(toId(p), resolve(base, p));
  const exists = new Map<string, boolean>();
  await Promise.all(
    [...paths].map(async ([id, path]) =>
      exists.set(id, (await stat(path).catch(() => undefined))?.isFile() === true),
    ),
  );
  const kept: Row[] = [];
  for (const r of rows) {
    const missing = [r.a, r.b].find((p) => !exists.get(toId(p)));
    if (missing === undefined) {
      kept.push(r);
      continue;
    }
    const e = datasetError(
      'not-found',
      `'${missing}' does not exist (looked for ${resolve(base, missing)})`,
      `${csv}:${r.line}`,
    );
    if (!options.skipInvalid) throw e;
    warn({ code: 'not-found', file: resolve(base, missing), message: `${e.message} (row skipped)` });
  }

  const ids = [...new Set(kept.flatMap((r) => [toId(r.a), toId(r.b)]))].sort();
  const ok = await checkFiles(
    ids.map((id) => paths.get(id) as string),
    options,
    warn,
  );
  const validIds = ids.filter((_, i) => ok[i]);
  const valid = new Set(validIds);
  const classOf = (id: string) => posix.dirname(id);
  const classes = [...new Set(validIds.map(classOf))].sort();
  const labelOf = new Map(classes.map((c, i) => [c, i]));
  const items: Item[] = validIds.map((id) => ({
    id,
    path: paths.get(id) as string,
    label: labelOf.get(classOf(id)) as number,
    className: classOf(id),
  }));
  const index = new Map(validIds.map((id, i) => [id, i]));
  const pairs: Pair[] = [];
  for (const r of kept) {
    const a = toId(r.a);
    const b = toId(r.b);
    if (!valid.has(a) || !valid.has(b)) continue; // its invalid image was already reported
    pairs.push({ a: index.get(a) as number, b: index.get(b) as number, same: r.same });
  }
  if (pairs.length === 0)
    throw datasetError('empty', 'pairs file has no usable pairs (every row was skipped)', csv);
  return { name, classes, items, warnings, pairs };
}

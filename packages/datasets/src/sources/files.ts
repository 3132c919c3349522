/** What the file sources share: listing image files and checking them before training starts. */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { DatasetWarning } from '../dataset.js';
import { DEFAULT_PIXEL_LIMIT, IMAGE_EXTENSIONS, probeImage, verifyImage } from '../decode.js';
import { DatasetError, datasetError } from '../errors.js';

/** How thoroughly a source checks its files when it is opened. */
export type CheckLevel = 'none' | 'header' | 'full';

/** Options every file source takes. */
export interface FileSourceOptions {
  /**
   * `header` (default) reads each file's header: catches empty, non-image and over-limit files.
   * `full` decodes every file, also catching truncated and corrupt ones (slower). `none` trusts the files.
   */
  readonly check?: CheckLevel;
  /** Drop invalid files with a warning naming each, instead of failing on the first. */
  readonly skipInvalid?: boolean;
  /** Called with each warning as it is found (they are also kept in `Dataset.warnings`). */
  readonly onWarning?: (warning: DatasetWarning) => void;
  /** Images with more pixels are refused (decompression-bomb guard). Default DEFAULT_PIXEL_LIMIT. */
  readonly pixelLimit?: number;
  /** File name endings treated as images. Default IMAGE_EXTENSIONS. */
  readonly extensions?: readonly string[];
  /** How many files are checked at once. Default 8. */
  readonly concurrency?: number;
}

/** A folder's visible entries, sorted by name (byte order), split into folders and files. */
export async function listFolder(dir: string): Promise<{ folders: string[]; files: string[] }> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders: string[] = [];
  const files: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // .DS_Store, .git, editors' temp files
    if (e.isDirectory()) folders.push(e.name);
    else if (e.isFile() || e.isSymbolicLink()) files.push(e.name);
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { folders: folders.sort(order), files: files.sort(order) };
}

export function isImageName(name: string, extensions: readonly string[] = IMAGE_EXTENSIONS): boolean {
  return extensions.includes(extname(name).toLowerCase());
}

/** Every image file under `dir` (recursively), as paths relative to `dir`, sorted; other files reported. */
export async function imageFilesUnder(
  dir: string,
  extensions: readonly string[],
  ignored: (relPath: string) => void,
  prefix = '',
): Promise<string[]> {
  const { folders, files } = await listFolder(dir);
  const out: string[] = [];
  for (const f of files) {
    if (isImageName(f, extensions)) out.push(prefix + f);
    else ignored(prefix + f);
  }
  for (const sub of folders)
    out.push(...(await imageFilesUnder(join(dir, sub), extensions, ignored, `${prefix}${sub}/`)));
  return out;
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Throws the one-line error for a path that is missing or not a folder. */
export async function requireFolder(path: string, what: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw datasetError('not-found', `${what} does not exist`, path);
  if (!info.isDirectory()) throw datasetError('not-found', `${what} is a file, not a folder`, path);
}

/**
 * Checks files at the level asked. Returns which are valid; invalid ones throw (the first, in the
 * order given) or, with skipInvalid, become warnings naming the file.
 */
export async function checkFiles(
  files: readonly string[],
  options: FileSourceOptions,
  warn: (w: DatasetWarning) => void,
): Promise<boolean[]> {
  const level = options.check ?? 'header';
  if (level === 'none') return files.map(() => true);
  const pixelLimit = options.pixelLimit ?? DEFAULT_PIXEL_LIMIT;
  const errors = await mapLimit(files, options.concurrency ?? 8, async (file) => {
    try {
      if (level === 'full') await verifyImage(file, { pixelLimit });
      else await probeImage(file, { pixelLimit });
      return undefined;
    } catch (e) {
      if (e instanceof DatasetError) return e;
      throw e;
    }
  });
  const ok: boolean[] = [];
  for (const e of errors) {
    if (e && !options.skipInvalid) throw e;
    if (e) {
      const code = e.code === 'pixel-limit' || e.code === 'not-found' ? e.code : 'invalid-image';
      warn({ code, ...(e.file ? { file: e.file } : {}), message: `${e.message} (skipped)` });
    }
    ok.push(!e);
  }
  return ok;
}

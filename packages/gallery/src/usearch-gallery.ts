/**
 * The ANN gallery: an HNSW graph (usearch) over the encoder embeddings, the float32 embeddings
 * kept beside it for the head to re-rank, and the items. On disk, a folder committed as one unit
 * (core's `replaceFolder`: written to a temp folder, then renamed into place):
 *
 *   gallery.json            format, model fingerprint, dimension, metric, size, ANN settings
 *   items.json              [{ id, label?, path? }] in row order
 *   embeddings.safetensors  float32 `embeddings` [N, D], row i embeds items[i]
 *   ann.usearch             usearch's index; the key of row i is i
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  loadWeights,
  readFolder,
  recoverFolder,
  replaceFolder,
  saveWeights,
  type Tensor,
} from '@siamese/core';
import {
  type AddOptions,
  type Candidate,
  checkQuery,
  checkRows,
  GalleryError,
  type GalleryIndex,
  type GalleryInfo,
  type GalleryItem,
  METRICS,
  type Metric,
} from './gallery.js';
import { Rows } from './rows.js';
import {
  createNative,
  type NativeIndex,
  type NativeSettings,
  QUANTIZATIONS,
  type Quantization,
  USEARCH_VERSION,
} from './usearch-native.js';

export const GALLERY_FORMAT = 'siamese-gallery';
export const GALLERY_FORMAT_VERSION = 1;
export const GALLERY_FILES = {
  meta: 'gallery.json',
  items: 'items.json',
  embeddings: 'embeddings.safetensors',
  ann: 'ann.usearch',
} as const;

export interface AnnOptions {
  /** HNSW edges per node (M). Default 16. */
  readonly connectivity?: number;
  /** Candidate list while inserting (efConstruction). Default 64. */
  readonly expansionAdd?: number;
  /** Candidate list while searching (ef); a search for more items than this uses that many. Default 128. */
  readonly expansionSearch?: number;
  /** How the graph stores vectors: f32, or f16 (half the memory, faster to build). Default f32. */
  readonly quantization?: Quantization;
  /** Threads for adding; 0: all cores. Default 0. */
  readonly threads?: number;
}

export interface UsearchGalleryOptions extends AnnOptions {
  /** The model's fingerprint (core's `modelFingerprint`). */
  readonly model: string;
  readonly dimension: number;
  readonly metric: Metric;
  readonly dataset?: string;
}

const ADD_CHUNK = 8192;

interface Meta {
  readonly format: string;
  readonly formatVersion: number;
  readonly kind: 'usearch';
  readonly model: string;
  readonly dimension: number;
  readonly metric: Metric;
  readonly size: number;
  readonly dataset: string;
  readonly ann: {
    readonly library: 'usearch';
    readonly version: string;
    readonly connectivity: number;
    readonly expansionAdd: number;
    readonly expansionSearch: number;
    readonly quantization: Quantization;
  };
}

function positive(name: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 1))
    throw new GalleryError(`${name} must be a positive integer, got ${v}`);
  return v;
}

function settingsOf(o: UsearchGalleryOptions): NativeSettings {
  const quantization = o.quantization ?? 'f32';
  if (!QUANTIZATIONS.includes(quantization))
    throw new GalleryError(`quantization must be one of ${QUANTIZATIONS.join(', ')}, got '${quantization}'`);
  if (!METRICS.includes(o.metric))
    throw new GalleryError(`metric must be one of ${METRICS.join(', ')}, got '${o.metric}'`);
  return {
    dimension: positive('dimension', o.dimension),
    metric: o.metric,
    connectivity: positive('connectivity', o.connectivity ?? 16),
    expansionAdd: positive('expansionAdd', o.expansionAdd ?? 64),
    expansionSearch: positive('expansionSearch', o.expansionSearch ?? 128),
    quantization,
  };
}

const keys = (from: number, n: number) => BigUint64Array.from({ length: n }, (_, i) => BigInt(from + i));

export class UsearchGallery implements GalleryIndex {
  private readonly rows: Rows;
  private readonly native: NativeIndex;
  private readonly settings: NativeSettings;
  private readonly threads: number;
  private readonly model: string;
  private readonly dataset: string;
  /** add, remove and save run one at a time (add yields between chunks): a server may overlap calls. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(o: UsearchGalleryOptions, rows: Rows, native?: NativeIndex) {
    this.settings = settingsOf(o);
    this.threads = o.threads ?? 0;
    this.model = o.model;
    this.dataset = o.dataset ?? '';
    this.rows = rows;
    this.native = native ?? createNative(this.settings);
  }

  /** An empty gallery. */
  static create(options: UsearchGalleryOptions): UsearchGallery {
    return new UsearchGallery(options, new Rows(options.dimension));
  }

  /**
   * Opens a gallery folder. `expansionSearch` (and `threads`) may be set for this session; the
   * other settings are the folder's.
   */
  static async load(
    dir: string,
    options: Pick<AnnOptions, 'expansionSearch' | 'threads'> = {},
  ): Promise<UsearchGallery> {
    await recoverFolder(dir);
    // `siamese index add` may swap in a new version meanwhile: read one version, whole.
    return readFolder(dir, (d) => UsearchGallery.read(d, options));
  }

  private static async read(
    dir: string,
    options: Pick<AnnOptions, 'expansionSearch' | 'threads'>,
  ): Promise<UsearchGallery> {
    const at = (f: string) => join(dir, f);
    const bad = (what: string) => new GalleryError(`gallery ${dir}: ${what}`);
    const s = await stat(dir).catch(() => undefined);
    if (!s?.isDirectory()) throw bad('no such folder');
    const meta = await readJson(at(GALLERY_FILES.meta), bad);
    if (meta.format !== GALLERY_FORMAT)
      throw bad(
        `${GALLERY_FILES.meta} is not a siamese gallery (format ${JSON.stringify(meta.format ?? null)})`,
      );
    if (meta.formatVersion !== GALLERY_FORMAT_VERSION)
      throw bad(`formatVersion ${meta.formatVersion}; this version reads ${GALLERY_FORMAT_VERSION}`);
    const m = checkMeta(meta, bad);
    const items = await readJson(at(GALLERY_FILES.items), bad);
    if (!Array.isArray(items) || !items.every(isItem))
      throw bad(`${GALLERY_FILES.items} is not a list of items`);
    const file = await loadWeights(at(GALLERY_FILES.embeddings)).catch((e: unknown) => {
      throw bad(`${GALLERY_FILES.embeddings}: ${e instanceof Error ? e.message : String(e)}`);
    });
    const t = file.tensors.get('embeddings');
    if (t?.dtype !== 'float32' || t.shape.length !== 2 || t.shape[1] !== m.dimension)
      throw bad(`${GALLERY_FILES.embeddings} needs a float32 tensor 'embeddings' [N, ${m.dimension}]`);
    if (t.shape[0] !== items.length || items.length !== m.size)
      throw bad(
        `${m.size} items in ${GALLERY_FILES.meta}, ${items.length} in ${GALLERY_FILES.items}, ${t.shape[0]} embeddings`,
      );
    const rows = new Rows(m.dimension, items, t.data as Float32Array);
    const options2: UsearchGalleryOptions = {
      model: m.model,
      dimension: m.dimension,
      metric: m.metric,
      dataset: m.dataset,
      connectivity: m.ann.connectivity,
      expansionAdd: m.ann.expansionAdd,
      expansionSearch: options.expansionSearch ?? m.ann.expansionSearch,
      quantization: m.ann.quantization,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    };
    const g = new UsearchGallery(options2, rows);
    try {
      g.native.load(at(GALLERY_FILES.ann));
    } catch (e) {
      throw bad(`${GALLERY_FILES.ann}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (g.native.dimensions() !== m.dimension || g.native.size() !== m.size)
      throw bad(
        `${GALLERY_FILES.ann} holds ${g.native.size()} vectors of ${g.native.dimensions()}; ${GALLERY_FILES.meta} says ${m.size} of ${m.dimension}`,
      );
    return g;
  }

  info(): GalleryInfo {
    const s = this.settings;
    return {
      kind: 'usearch',
      model: this.model,
      dimension: s.dimension,
      metric: s.metric,
      size: this.rows.size,
      ...(this.dataset ? { dataset: this.dataset } : {}),
      ann: {
        library: `usearch ${USEARCH_VERSION}`,
        index: 'HNSW',
        connectivity: s.connectivity,
        expansionAdd: s.expansionAdd,
        expansionSearch: s.expansionSearch,
        quantization: s.quantization,
      },
    };
  }

  items(): readonly GalleryItem[] {
    return this.rows.items();
  }

  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  add(items: readonly GalleryItem[], embeddings: Float32Array, options: AddOptions = {}): Promise<void> {
    return this.exclusive(() => this.addNow(items, embeddings, options));
  }

  private async addNow(
    items: readonly GalleryItem[],
    embeddings: Float32Array,
    options: AddOptions,
  ): Promise<void> {
    const d = this.settings.dimension;
    checkRows(items, embeddings, d);
    this.rows.checkNew(items);
    const first = this.rows.append(items, embeddings);
    let done = 0;
    try {
      while (done < items.length) {
        const n = Math.min(ADD_CHUNK, items.length - done);
        this.native.add(keys(first + done, n), embeddings.subarray(done * d, (done + n) * d), this.threads);
        done += n;
        options.onProgress?.(done, items.length);
        // Let timers and I/O run between chunks (a server stays responsive while it enrols).
        await new Promise((r) => setImmediate(r));
      }
    } catch (e) {
      if (done > 0) this.native.remove(keys(first, done));
      this.rows.truncate(first);
      throw e;
    }
  }

  remove(ids: readonly string[]): Promise<number> {
    return this.exclusive(async () => this.removeNow(ids));
  }

  private removeNow(ids: readonly string[]): number {
    let removed = 0;
    for (const id of ids) {
      const row = this.rows.rowOf(id);
      if (row === undefined) continue;
      this.native.remove(keys(row, 1));
      const moved = this.rows.removeRow(row);
      if (moved !== undefined) {
        // Keys are rows: the last row moved into the freed one, so its vector moves keys too.
        this.native.remove(keys(moved, 1));
        this.native.add(keys(row, 1), this.rows.vector(row), 1);
      }
      removed++;
    }
    return removed;
  }

  async search(query: Float32Array, k: number): Promise<Candidate[]> {
    checkQuery(query, this.settings.dimension);
    const n = Math.min(positive('k', k), this.rows.size);
    if (n === 0) return [];
    const found = this.native.search(query, n, 1);
    const out: Candidate[] = [];
    for (let i = 0; i < found.keys.length; i++) {
      const row = Number(found.keys[i]);
      if (row >= this.rows.size) continue;
      out.push({ ...this.rows.item(row), distance: found.distances[i]!, embedding: this.rows.vector(row) });
    }
    return out;
  }

  /** Writes the gallery folder as one unit (a temp folder renamed into place). */
  save(dir: string): Promise<void> {
    return this.exclusive(() => this.saveNow(dir));
  }

  private async saveNow(dir: string): Promise<void> {
    const s = this.settings;
    const meta: Meta = {
      format: GALLERY_FORMAT,
      formatVersion: GALLERY_FORMAT_VERSION,
      kind: 'usearch',
      model: this.model,
      dimension: s.dimension,
      metric: s.metric,
      size: this.rows.size,
      dataset: this.dataset,
      ann: {
        library: 'usearch',
        version: USEARCH_VERSION,
        connectivity: s.connectivity,
        expansionAdd: s.expansionAdd,
        expansionSearch: s.expansionSearch,
        quantization: s.quantization,
      },
    };
    const embeddings: Tensor<'float32'> = {
      dtype: 'float32',
      shape: [this.rows.size, s.dimension],
      data: this.rows.packed(),
    };
    await replaceFolder(dir, async (tmp) => {
      this.native.save(join(tmp, GALLERY_FILES.ann));
      await saveWeights(join(tmp, GALLERY_FILES.embeddings), [['embeddings', embeddings]], {
        format: 'siamese-gallery-embeddings',
      });
      await writeFile(join(tmp, GALLERY_FILES.items), JSON.stringify(this.rows.items()));
      // Last: a folder with gallery.json is complete.
      await writeFile(join(tmp, GALLERY_FILES.meta), `${JSON.stringify(meta, null, 2)}\n`);
    });
  }
}

async function readJson(path: string, bad: (what: string) => GalleryError): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw bad(code === 'ENOENT' ? `no ${path.split('/').pop()} (not a gallery folder?)` : String(e));
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw bad(`${path.split('/').pop()} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function checkMeta(meta: Record<string, unknown>, bad: (what: string) => GalleryError): Meta {
  const m = meta as unknown as Meta;
  const f = GALLERY_FILES.meta;
  if (!(Number.isInteger(m.dimension) && m.dimension >= 1))
    throw bad(`${f}: dimension must be a positive integer, got ${JSON.stringify(m.dimension)}`);
  if (!(Number.isInteger(m.size) && m.size >= 0))
    throw bad(`${f}: size must be a non-negative integer, got ${JSON.stringify(m.size)}`);
  if (!METRICS.includes(m.metric))
    throw bad(`${f}: metric must be one of ${METRICS.join(', ')}, got ${JSON.stringify(m.metric)}`);
  if (typeof m.model !== 'string') throw bad(`${f}: model must be the model's fingerprint`);
  const a = m.ann as Partial<Meta['ann']> | undefined;
  if (a?.library !== 'usearch' || !QUANTIZATIONS.includes(a.quantization as Quantization))
    throw bad(
      `${f}: ann must describe a usearch index (library, connectivity, expansionAdd, expansionSearch, quantization)`,
    );
  for (const k of ['connectivity', 'expansionAdd', 'expansionSearch'] as const) {
    if (!(Number.isInteger(a[k]) && (a[k] as number) >= 1))
      throw bad(`${f}: ann.${k} must be a positive integer, got ${JSON.stringify(a[k])}`);
  }
  return m;
}

function isItem(v: unknown): v is GalleryItem {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    (r.label === undefined || typeof r.label === 'string') &&
    (r.path === undefined || typeof r.path === 'string')
  );
}

/**
 * The exact gallery: every stored embedding compared with the query. Backed by the embeddings file
 * `siamese embed` writes (core's format: one safetensors file, the items and the model fingerprint
 * in its metadata), so an existing file is a gallery as it is. Fine to tens of thousands of items;
 * beyond that, the ANN gallery.
 */
import { type EmbeddingsIndex, loadEmbeddings, saveEmbeddings } from '@siamese/core';
import {
  type AddOptions,
  type Candidate,
  checkQuery,
  checkRows,
  type GalleryIndex,
  type GalleryInfo,
  type GalleryItem,
  type Metric,
} from './gallery.js';
import { distance, smallest } from './plan.js';
import { Rows } from './rows.js';

export interface BruteForceOptions {
  /** The model's fingerprint (core's `modelFingerprint`). */
  readonly model: string;
  readonly dimension: number;
  /** Default `l2`. */
  readonly metric?: Metric;
  /** Where the items came from, kept in the file. */
  readonly dataset?: string;
}

export class BruteForceGallery implements GalleryIndex {
  private readonly rows: Rows;
  readonly metric: Metric;
  private readonly model: string;
  private readonly dataset: string;

  constructor(options: BruteForceOptions, items: readonly GalleryItem[] = [], embeddings?: Float32Array) {
    this.rows = new Rows(options.dimension);
    this.metric = options.metric ?? 'l2';
    this.model = options.model;
    this.dataset = options.dataset ?? '';
    if (items.length > 0 || embeddings !== undefined) {
      const e = embeddings ?? new Float32Array(0);
      checkRows(items, e, options.dimension);
      this.rows.append(items, e);
    }
  }

  /** Opens an embeddings file; `metric` is how to compare (the file does not say). */
  static async load(path: string, metric: Metric = 'l2'): Promise<BruteForceGallery> {
    const file = await loadEmbeddings(path);
    return BruteForceGallery.fromEmbeddings(file, metric);
  }

  static fromEmbeddings(file: EmbeddingsIndex, metric: Metric = 'l2'): BruteForceGallery {
    const [, d] = file.embeddings.shape as [number, number];
    const items = file.items.map((it) => ({
      id: it.id,
      ...(it.class !== undefined ? { label: it.class } : {}),
      ...(it.path !== undefined ? { path: it.path } : {}),
    }));
    const g = new BruteForceGallery({ model: file.model, dimension: d, metric, dataset: file.dataset });
    g.rows.append(items, file.embeddings.data);
    return g;
  }

  info(): GalleryInfo {
    return {
      kind: 'embeddings-file',
      model: this.model,
      dimension: this.rows.dimension,
      metric: this.metric,
      size: this.rows.size,
      ...(this.dataset ? { dataset: this.dataset } : {}),
    };
  }

  items(): readonly GalleryItem[] {
    return this.rows.items();
  }

  async add(
    items: readonly GalleryItem[],
    embeddings: Float32Array,
    options: AddOptions = {},
  ): Promise<void> {
    checkRows(items, embeddings, this.rows.dimension);
    this.rows.checkNew(items);
    this.rows.append(items, embeddings);
    options.onProgress?.(items.length, items.length);
  }

  /**
   * Every row of each id goes: an embeddings file written by a server holds one row per enrolled
   * image, all under the enrolment's id. Rows go last first, so the row that fills a freed slot
   * is never one still to remove.
   */
  async remove(ids: readonly string[]): Promise<number> {
    const wanted = new Set(ids);
    const rows = this.rows.items().flatMap((it, r) => (wanted.has(it.id) ? [r] : []));
    for (const r of rows.reverse()) this.rows.removeRow(r);
    return rows.length;
  }

  async search(query: Float32Array, k: number): Promise<Candidate[]> {
    const d = this.rows.dimension;
    checkQuery(query, d);
    const n = this.rows.size;
    const all = this.rows.packed();
    const dist = new Float64Array(n);
    for (let i = 0; i < n; i++) dist[i] = distance(this.metric, all, i * d, query, 0, d);
    return smallest(dist, k).map((row) => ({
      ...this.rows.item(row),
      distance: dist[row]!,
      embedding: this.rows.vector(row),
    }));
  }

  /** Writes the embeddings file (atomic). */
  async save(path: string): Promise<void> {
    const items = this.rows.items();
    await saveEmbeddings(path, {
      embeddings: {
        dtype: 'float32',
        shape: [items.length, this.rows.dimension],
        data: this.rows.packed().slice(),
      },
      items: items.map((it) => ({
        id: it.id,
        ...(it.path !== undefined ? { path: it.path } : {}),
        ...(it.label !== undefined ? { class: it.label } : {}),
      })),
      model: this.model,
      dataset: this.dataset,
    });
  }
}

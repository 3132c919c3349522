/**
 * The gallery index interface: enrolled items (an id, a label) with their encoder embeddings, the
 * nearest of them to a query by embedding distance (the candidate stage), and the model the
 * embeddings came from. Small on purpose, so that an in-process ANN index, a brute-force scan of an
 * embeddings file or a vector database can each back it; the head re-ranks what it returns
 * (two-stage.ts).
 */

/** How embeddings are compared in the candidate stage: squared L2, or 1 - cosine similarity. */
export type Metric = 'l2' | 'cosine';
export const METRICS: readonly Metric[] = ['l2', 'cosine'];

export interface GalleryItem {
  /** Unique within the gallery: a file id (`ann/1.png`), an enrolment id, a database key. */
  readonly id: string;
  /** Who or what it shows (the class); returned with every match. */
  readonly label?: string;
  /** The image file it was embedded from, when there is one. */
  readonly path?: string;
}

export interface Candidate extends GalleryItem {
  /** The metric's distance to the query (smaller is nearer). */
  readonly distance: number;
  /** The item's stored embedding (D floats): what the head re-ranks. A view; do not modify. */
  readonly embedding: Float32Array;
}

/** What a gallery holds, and which model its embeddings belong to. */
export interface GalleryInfo {
  /** The implementation: `usearch` (an HNSW index folder) or `embeddings-file` (brute force). */
  readonly kind: string;
  /** The fingerprint of the model that made the embeddings (core's `modelFingerprint`). */
  readonly model: string;
  /** Floats per embedding. */
  readonly dimension: number;
  readonly metric: Metric;
  /** Items enrolled now. */
  readonly size: number;
  /** Where the items came from (a folder, `mnist`), when known. */
  readonly dataset?: string;
  /** Settings of the approximate index, when the gallery has one. */
  readonly ann?: Readonly<Record<string, string | number>>;
}

export interface AddOptions {
  /** Called as items go in (an index may add in chunks). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface GalleryIndex {
  info(): GalleryInfo;
  /**
   * Enrols items: row i of `embeddings` (items.length x D, row-major) embeds items[i]. An id
   * already enrolled (or given twice) is refused and nothing is added.
   */
  add(items: readonly GalleryItem[], embeddings: Float32Array, options?: AddOptions): Promise<void>;
  /** Removes the items with these ids; returns how many there were (unknown ids are skipped). */
  remove(ids: readonly string[]): Promise<number>;
  /** The `k` items nearest to `query` (D floats) by the metric, nearest first. */
  search(query: Float32Array, k: number): Promise<Candidate[]>;
  /** Writes the gallery to `path` atomically: a reader sees the old version or the new one. */
  save(path: string): Promise<void>;
}

/** A problem with a gallery or with how it is used: one line naming the file, field or id. */
export class GalleryError extends Error {
  override name = 'GalleryError';
}

/** Throws unless `embeddings` holds whole rows of `dimension` floats, one per item, all finite. */
export function checkRows(items: readonly GalleryItem[], embeddings: Float32Array, dimension: number): void {
  if (embeddings.length !== items.length * dimension) {
    throw new GalleryError(
      `embeddings hold ${embeddings.length} floats; ${items.length} items of ${dimension} need ${items.length * dimension}`,
    );
  }
  const seen = new Set<string>();
  for (const item of items) {
    if (typeof item.id !== 'string' || item.id === '')
      throw new GalleryError(`item id must be a non-empty string, got ${JSON.stringify(item.id)}`);
    if (seen.has(item.id)) throw new GalleryError(`item id '${item.id}' is given twice`);
    seen.add(item.id);
  }
  for (let i = 0; i < embeddings.length; i++) {
    if (!Number.isFinite(embeddings[i])) {
      const row = Math.floor(i / dimension);
      throw new GalleryError(`embedding of '${items[row]!.id}' has a non-finite value (${embeddings[i]})`);
    }
  }
}

/** Throws unless `query` has `dimension` finite floats. */
export function checkQuery(query: Float32Array, dimension: number): void {
  if (query.length !== dimension)
    throw new GalleryError(`query has ${query.length} floats; the gallery's embeddings have ${dimension}`);
  if (!query.every(Number.isFinite)) throw new GalleryError('query embedding has a non-finite value');
}

/**
 * Refuses a gallery made by another model: a different embedding size, or a different model
 * fingerprint (another architecture, preprocessing or set of weights).
 */
export function checkModel(
  info: GalleryInfo,
  model: { readonly fingerprint: string; readonly dimension: number },
  where: string,
): void {
  if (info.dimension !== model.dimension) {
    throw new GalleryError(
      `${where} holds ${info.dimension}-float embeddings but the model makes ${model.dimension}: it was embedded by another model`,
    );
  }
  if (info.model !== model.fingerprint) {
    throw new GalleryError(
      `${where} was embedded by another model (or other weights): fingerprint ${info.model.slice(0, 12)}, this model ${model.fingerprint.slice(0, 12)}; embed the gallery again with this model`,
    );
  }
}

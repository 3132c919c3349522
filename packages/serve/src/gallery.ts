/**
 * The gallery the server searches and enrols into, behind a small interface so that an ANN index
 * (@siamese/gallery) can replace the flat one without touching the routes: add, remove, search,
 * persist. Search asks the gallery for candidate rows and has the model's head score them (the
 * head runs in a worker, never here); the flat gallery's candidates are all of its rows.
 */
import { stat } from 'node:fs/promises';
import { type EmbeddedItem, loadEmbeddings, saveEmbeddings } from '@siamese/core';
import { ServeConfigError } from './errors.js';

/** Rows to score: [count, D] float32. `key` names a table a worker may keep between searches. */
export interface CandidateRows {
  readonly data: Float32Array;
  readonly count: number;
  readonly key?: string;
}

/** Scores a query embedding against rows with the model's head; resolves to one logit per row. */
export type RowScorer = (query: Float32Array, rows: CandidateRows) => Promise<Float32Array>;

export interface GalleryMatch {
  readonly id: string;
  readonly label: string | null;
  /** The head's logit for the best of the enrolment's images. */
  readonly logit: number;
}

export interface GalleryEntry {
  readonly id: string;
  readonly label?: string;
  /** [n, D]: one row per enrolled image. */
  readonly embeddings: Float32Array;
}

export interface Gallery {
  /** Rows (images), over all enrolments. */
  readonly size: number;
  /** Enrolments (distinct ids). */
  readonly ids: number;
  has(id: string): boolean;
  /** Adds an enrolment (persisted before it resolves). */
  add(entry: GalleryEntry): Promise<void>;
  /** Removes every row of `id` (persisted); resolves to how many there were. */
  remove(id: string): Promise<number>;
  /** The k best enrolments for `query` (an enrolment scores as its best image), best first. */
  search(query: Float32Array, k: number, score: RowScorer): Promise<GalleryMatch[]>;
  /** Writes the gallery to its file, atomically (a no-op for a gallery without one). */
  persist(): Promise<void>;
}

/**
 * Every row in one float32 table, searched exhaustively; persisted as the embeddings file that
 * `siamese embed` writes (safetensors, items and the model's fingerprint in the metadata), so a
 * gallery embedded offline can be served and one enrolled online can be searched offline. Each
 * change rewrites the file atomically: fine for thousands of rows, not for millions (that is
 * what the ANN index is for).
 */
export class FlatGallery implements Gallery {
  private table: Float32Array;
  private items: EmbeddedItem[];
  private version = 0;
  /** Serializes changes: each is planned from, and written after, every change before it. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly dimension: number,
    readonly fingerprint: string,
    private readonly file: string | undefined,
    private readonly dataset: string,
    table: Float32Array,
    items: EmbeddedItem[],
  ) {
    this.table = table;
    this.items = items;
  }

  /** An empty gallery held in memory only. */
  static memory(dimension: number, fingerprint: string): FlatGallery {
    return new FlatGallery(dimension, fingerprint, undefined, 'serve', new Float32Array(0), []);
  }

  /**
   * Opens `file` (an embeddings file from `siamese embed` or from this server), or starts an empty
   * gallery that will be written there. Refuses a file embedded by another model.
   */
  static async open(file: string, dimension: number, fingerprint: string): Promise<FlatGallery> {
    const info = await stat(file).catch(() => undefined);
    if (!info) return new FlatGallery(dimension, fingerprint, file, 'serve', new Float32Array(0), []);
    if (info.isDirectory()) throw new ServeConfigError(`--gallery '${file}' is a folder; name a file`);
    let index: Awaited<ReturnType<typeof loadEmbeddings>>;
    try {
      index = await loadEmbeddings(file);
    } catch (e) {
      throw new ServeConfigError(`--gallery: ${(e as Error).message}`);
    }
    const d = index.embeddings.shape[1];
    if (d !== dimension) {
      throw new ServeConfigError(
        `--gallery '${file}' holds ${d}-float embeddings but the model makes ${dimension}: it was embedded by another model`,
      );
    }
    if (index.model !== fingerprint) {
      throw new ServeConfigError(
        `--gallery '${file}' was embedded by another model (fingerprint ${index.model.slice(0, 12) || 'none'}, this model ${fingerprint.slice(0, 12)}); embed it again with this model`,
      );
    }
    return new FlatGallery(
      dimension,
      fingerprint,
      file,
      index.dataset || 'serve',
      Float32Array.from(index.embeddings.data),
      [...index.items],
    );
  }

  get size(): number {
    return this.items.length;
  }

  get ids(): number {
    return new Set(this.items.map((i) => i.id)).size;
  }

  has(id: string): boolean {
    return this.items.some((i) => i.id === id);
  }

  /** Runs `f` after every earlier change and write has settled. */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const done = this.writing.then(f, f);
    this.writing = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  /**
   * A change is planned from the state every earlier change left, written, and only then made the
   * state searches see: a failed write leaves the gallery as its file has it.
   */
  private change<T>(
    plan: () => { result: T; state?: { table: Float32Array; items: EmbeddedItem[] } },
  ): Promise<T> {
    return this.serial(async () => {
      const { result, state } = plan();
      if (state) {
        await this.write(state.table, state.items);
        this.table = state.table;
        this.items = state.items;
        this.version++;
      }
      return result;
    });
  }

  add(entry: GalleryEntry): Promise<void> {
    const n = entry.embeddings.length / this.dimension;
    if (!Number.isInteger(n) || n < 1)
      return Promise.reject(new Error(`add: embeddings of ${entry.embeddings.length} floats`));
    const item: EmbeddedItem = { id: entry.id, ...(entry.label !== undefined ? { class: entry.label } : {}) };
    return this.change(() => {
      // Copy on write: a search in flight keeps the table it was given.
      const table = new Float32Array(this.table.length + entry.embeddings.length);
      table.set(this.table);
      table.set(entry.embeddings, this.table.length);
      return {
        result: undefined,
        state: { table, items: [...this.items, ...Array.from({ length: n }, () => item)] },
      };
    });
  }

  remove(id: string): Promise<number> {
    const d = this.dimension;
    return this.change(() => {
      const keep = this.items.flatMap((it, i) => (it.id === id ? [] : [i]));
      const removed = this.items.length - keep.length;
      if (removed === 0) return { result: 0 };
      const table = new Float32Array(keep.length * d);
      keep.forEach((i, r) => {
        table.set(this.table.subarray(i * d, (i + 1) * d), r * d);
      });
      return { result: removed, state: { table, items: keep.map((i) => this.items[i]!) } };
    });
  }

  async search(query: Float32Array, k: number, score: RowScorer): Promise<GalleryMatch[]> {
    const items = this.items;
    const count = items.length;
    if (count === 0) return [];
    const logits = await score(query, {
      data: this.table,
      count,
      key: `${this.fingerprint.slice(0, 12)}:${this.version}`,
    });
    // The best row of each enrolment, then the k best enrolments.
    const best = new Map<string, { row: number; logit: number }>();
    for (let r = 0; r < count; r++) {
      const id = items[r]!.id;
      const b = best.get(id);
      if (!b || logits[r]! > b.logit) best.set(id, { row: r, logit: logits[r]! });
    }
    return [...best.entries()]
      .sort((x, y) => y[1].logit - x[1].logit)
      .slice(0, k)
      .map(([id, b]) => ({ id, label: items[b.row]!.class ?? null, logit: b.logit }));
  }

  /** Writes the current state to the file (a no-op without one). */
  persist(): Promise<void> {
    return this.serial(() => this.write(this.table, this.items));
  }

  private async write(table: Float32Array, items: readonly EmbeddedItem[]): Promise<void> {
    if (this.file === undefined) return;
    await saveEmbeddings(this.file, {
      embeddings: { dtype: 'float32', shape: [items.length, this.dimension], data: table },
      items: [...items],
      model: this.fingerprint,
      dataset: this.dataset,
    });
  }
}

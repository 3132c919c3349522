/**
 * Enrolled items and their embeddings as dense rows (row i: items[i] and floats [i*D, (i+1)*D)),
 * with an id -> row map. Removal moves the last row into the freed one, so the rows stay dense
 * and saving is one contiguous write.
 */
import { GalleryError, type GalleryItem } from './gallery.js';

export class Rows {
  private data: Float32Array;
  private readonly list: GalleryItem[] = [];
  private readonly byId = new Map<string, number>();

  constructor(
    readonly dimension: number,
    items: readonly GalleryItem[] = [],
    embeddings: Float32Array = new Float32Array(0),
  ) {
    if (!(Number.isInteger(dimension) && dimension >= 1))
      throw new GalleryError(`dimension must be a positive integer, got ${dimension}`);
    this.data = new Float32Array(Math.max(1, items.length) * dimension);
    this.append(items, embeddings);
  }

  get size(): number {
    return this.list.length;
  }

  item(row: number): GalleryItem {
    return this.list[row]!;
  }

  items(): readonly GalleryItem[] {
    return this.list;
  }

  /** Row `row`'s embedding: a view into the store. */
  vector(row: number): Float32Array {
    return this.data.subarray(row * this.dimension, (row + 1) * this.dimension);
  }

  /** Every row's embedding, [size x D]: a view. */
  packed(): Float32Array {
    return this.data.subarray(0, this.size * this.dimension);
  }

  rowOf(id: string): number | undefined {
    return this.byId.get(id);
  }

  /** Throws when an id is enrolled already. */
  checkNew(items: readonly GalleryItem[]): void {
    for (const it of items) {
      if (this.byId.has(it.id))
        throw new GalleryError(`item id '${it.id}' is already in the gallery; remove it first`);
    }
  }

  /** Appends rows (ids checked by the caller); returns the first new row. */
  append(items: readonly GalleryItem[], embeddings: Float32Array): number {
    const d = this.dimension;
    const first = this.size;
    const need = (first + items.length) * d;
    if (need > this.data.length) {
      const grown = new Float32Array(Math.max(need, Math.ceil(this.data.length * 1.5)));
      grown.set(this.data.subarray(0, first * d));
      this.data = grown;
    }
    this.data.set(embeddings.subarray(0, items.length * d), first * d);
    for (const [k, it] of items.entries()) {
      const kept: GalleryItem = {
        id: it.id,
        ...(it.label !== undefined ? { label: it.label } : {}),
        ...(it.path !== undefined ? { path: it.path } : {}),
      };
      this.list.push(kept);
      this.byId.set(it.id, first + k);
    }
    return first;
  }

  /** Drops the rows from `size` on (undoing a failed append). */
  truncate(size: number): void {
    for (const it of this.list.splice(size)) this.byId.delete(it.id);
  }

  /**
   * Removes `row`: the last row moves into it. Returns the row that moved (the old last row), or
   * undefined when `row` was the last one.
   */
  removeRow(row: number): number | undefined {
    const last = this.size - 1;
    const gone = this.list[row]!;
    this.byId.delete(gone.id);
    if (row === last) {
      this.list.pop();
      return undefined;
    }
    const moved = this.list.pop()!;
    this.list[row] = moved;
    this.byId.set(moved.id, row);
    const d = this.dimension;
    this.data.copyWithin(row * d, last * d, (last + 1) * d);
    return last;
  }
}

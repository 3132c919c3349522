/**
 * A small in-page gallery of enrolled embeddings, searched exhaustively by the model's head (a
 * browser gallery holds tens to thousands of entries: the head scores thousands of pairs in one run;
 * galleries of millions belong in `siamese serve --gallery`, which has an ANN index).
 */
import { WebModelError } from './errors.js';

export class Gallery {
  private readonly rows = new Map<string, Float32Array>();

  constructor(readonly embeddingSize: number) {
    if (!(Number.isInteger(embeddingSize) && embeddingSize >= 1))
      throw new WebModelError(`embeddingSize must be a positive integer, got ${embeddingSize}`, 'input');
  }

  get size(): number {
    return this.rows.size;
  }

  get ids(): string[] {
    return [...this.rows.keys()];
  }

  /** Enrols (or replaces) `id` with an embedding from `model.embed`. */
  add(id: string, embedding: Float32Array): void {
    if (typeof id !== 'string' || id.trim() === '')
      throw new WebModelError('a gallery id must be a non-empty string', 'input');
    if (!(embedding instanceof Float32Array) || embedding.length !== this.embeddingSize)
      throw new WebModelError(
        `gallery id '${id}': expected an embedding of ${this.embeddingSize} values, got ${embedding?.length}`,
        'input',
      );
    this.rows.set(id, embedding.slice());
  }

  remove(id: string): boolean {
    return this.rows.delete(id);
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  /** The embeddings, one row per id in `ids` order. */
  matrix(): Float32Array {
    const out = new Float32Array(this.rows.size * this.embeddingSize);
    let i = 0;
    for (const row of this.rows.values()) out.set(row, i++ * this.embeddingSize);
    return out;
  }
}

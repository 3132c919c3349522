/**
 * The server's gallery on an ANN index folder (`siamese index build`, @siamese/gallery's usearch
 * gallery): search takes the index's nearest items by embedding distance, then the model's head
 * re-ranks them, the same two stages as `siamese search --index`; millions of images stay fast.
 * An enrolment of n images is n items: `<id>` and then `<id>#1`, `<id>#2`, ... (ids the server
 * accepts never hold '#'). Each change is saved to the folder atomically before its response; one
 * whose save fails is undone.
 */
import {
  checkModel,
  DEFAULT_CANDIDATES_PER_MATCH,
  GalleryError,
  type GalleryItem,
  UsearchGallery,
} from '@siamese/gallery';
import { ServeConfigError } from './errors.js';
import type { Gallery, GalleryEntry, GalleryMatch, RowScorer } from './gallery.js';

/** The enrolment an item belongs to. */
const enrolmentOf = (item: string): string => item.replace(/#\d+$/, '');

export class IndexGallery implements Gallery {
  /** Item ids by enrolment id, in enrolment order. */
  private readonly enrolments = new Map<string, string[]>();

  private constructor(
    private index: UsearchGallery,
    private readonly dir: string,
    private readonly dimension: number,
  ) {
    this.trackAll();
  }

  private trackAll(): void {
    this.enrolments.clear();
    for (const item of this.index.items()) this.track(item);
  }

  /**
   * Saves a change; when the save fails, goes back to what the folder holds (the save is atomic:
   * the folder is the old gallery), so memory never runs ahead of the file.
   */
  private async commit(): Promise<void> {
    try {
      await this.persist();
    } catch (e) {
      this.index = await UsearchGallery.load(this.dir);
      this.trackAll();
      throw e;
    }
  }

  /** Opens an index folder; refuses one built by another model. */
  static async open(dir: string, dimension: number, fingerprint: string): Promise<IndexGallery> {
    try {
      const index = await UsearchGallery.load(dir);
      checkModel(index.info(), { fingerprint, dimension }, `--gallery '${dir}'`);
      return new IndexGallery(index, dir, dimension);
    } catch (e) {
      if (e instanceof GalleryError)
        throw new ServeConfigError(e.message.startsWith('--gallery') ? e.message : `--gallery: ${e.message}`);
      throw e;
    }
  }

  private track(item: GalleryItem): void {
    const id = enrolmentOf(item.id);
    const list = this.enrolments.get(id);
    if (list) list.push(item.id);
    else this.enrolments.set(id, [item.id]);
  }

  get size(): number {
    return this.index.info().size;
  }

  get ids(): number {
    return this.enrolments.size;
  }

  has(id: string): boolean {
    return this.enrolments.has(id);
  }

  async add(entry: GalleryEntry): Promise<void> {
    const n = entry.embeddings.length / this.dimension;
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`add: embeddings of ${entry.embeddings.length} floats`);
    const items = Array.from({ length: n }, (_, k) => ({
      id: k === 0 ? entry.id : `${entry.id}#${k}`,
      ...(entry.label !== undefined ? { label: entry.label } : {}),
    }));
    await this.index.add(items, entry.embeddings);
    for (const item of items) this.track(item);
    await this.commit();
  }

  async remove(id: string): Promise<number> {
    const items = this.enrolments.get(id);
    if (!items) return 0;
    const removed = await this.index.remove(items);
    this.enrolments.delete(id);
    await this.commit();
    return removed;
  }

  async search(query: Float32Array, k: number, score: RowScorer): Promise<GalleryMatch[]> {
    if (this.size === 0) return [];
    const candidates = await this.index.search(query, k * DEFAULT_CANDIDATES_PER_MATCH);
    if (candidates.length === 0) return [];
    const d = this.dimension;
    const data = new Float32Array(candidates.length * d);
    candidates.forEach((c, r) => {
      data.set(c.embedding, r * d);
    });
    // No table key: the candidates differ from query to query.
    const logits = await score(query, { data, count: candidates.length });
    const best = new Map<string, GalleryMatch>();
    candidates.forEach((c, r) => {
      const id = enrolmentOf(c.id);
      const logit = logits[r]!;
      if ((best.get(id)?.logit ?? -Infinity) < logit) best.set(id, { id, label: c.label ?? null, logit });
    });
    return [...best.values()].sort((x, y) => y.logit - x.logit).slice(0, k);
  }

  persist(): Promise<void> {
    return this.index.save(this.dir);
  }
}

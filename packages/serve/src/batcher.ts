/**
 * Micro-batching: requests that arrive within `maxDelayMs` of each other go to a worker as one
 * job of up to `maxBatch` distinct images (identical uploads in a batch are encoded once), so the
 * encoder runs on batches under load and at once when idle. The queue is bounded (a full queue is
 * a 503 with Retry-After, never an unbounded wait) and every request carries a deadline (504).
 * Search's second step, the head over the gallery's rows, goes first to the next free worker.
 */
import { createHash } from 'node:crypto';
import { ServeError } from './errors.js';
import type { CandidateRows } from './gallery.js';
import type { Metrics } from './metrics.js';
import type { Slot, WorkerPool } from './pool.js';
import type { HeadJob, ImagesJob } from './protocol.js';

export interface BatchOptions {
  /** Distinct images per encoder job. */
  readonly maxBatch: number;
  /** How long the first request of a batch waits for others while a worker is free. */
  readonly maxDelayMs: number;
  /** Requests that may wait for a worker; more are refused with 503. */
  readonly maxQueue: number;
}

/** One uploaded image and the request field it came in. */
export interface Upload {
  readonly field: string;
  readonly bytes: Uint8Array;
}

export interface ImagesAnswer {
  /** One [D] embedding per upload, in order. */
  readonly embeddings: Float32Array[];
  readonly logits: number[];
  readonly probabilities: number[];
}

interface Entry {
  readonly deadline: number;
  readonly enqueuedAt: number;
  state: 'queued' | 'running' | 'done';
  timer?: NodeJS.Timeout;
  reject(e: Error): void;
}

interface ImagesEntry extends Entry {
  readonly uploads: readonly Upload[];
  /** Pairs of indices into uploads, scored by the head. */
  readonly pairs: readonly (readonly [number, number])[];
  resolve(a: ImagesAnswer): void;
}

interface HeadEntry extends Entry {
  readonly query: Float32Array;
  readonly rows: CandidateRows;
  resolve(logits: Float32Array): void;
}

const HEAD_GROUP = 64;

export class Batcher {
  private readonly imageQueue: ImagesEntry[] = [];
  private readonly headQueue: HeadEntry[] = [];
  private inFlight = 0;
  private nextId = 1;
  private timer?: NodeJS.Timeout;
  private flushing = false;
  private drained?: () => void;

  constructor(
    private readonly pool: WorkerPool,
    private readonly metrics: Metrics,
    private readonly options: BatchOptions,
  ) {
    pool.on('idle', () => this.pump());
  }

  /** Requests waiting for a worker. */
  get depth(): number {
    return this.imageQueue.length + this.headQueue.length;
  }

  /** Embeds `uploads` (and scores `pairs` of them) in the next batch. */
  images(
    uploads: readonly Upload[],
    pairs: readonly (readonly [number, number])[],
    deadline: number,
  ): Promise<ImagesAnswer> {
    if (this.imageQueue.length >= this.options.maxQueue) {
      this.metrics.rejected.inc({ reason: 'queue-full' });
      throw new ServeError(
        'overloaded',
        `the server is at capacity (${this.imageQueue.length} requests queued); retry shortly`,
        undefined,
        1,
      );
    }
    return new Promise<ImagesAnswer>((resolve, reject) => {
      const e: ImagesEntry = {
        uploads,
        pairs,
        deadline,
        enqueuedAt: Date.now(),
        state: 'queued',
        resolve,
        reject,
      };
      this.arm(e, this.imageQueue);
      this.imageQueue.push(e);
      this.updateDepth();
      this.pump();
    });
  }

  /** The head's logits of `query` against every one of `rows`. */
  head(query: Float32Array, rows: CandidateRows, deadline: number): Promise<Float32Array> {
    return new Promise<Float32Array>((resolve, reject) => {
      const e: HeadEntry = {
        query,
        rows,
        deadline,
        enqueuedAt: Date.now(),
        state: 'queued',
        resolve,
        reject,
      };
      this.arm(e, this.headQueue);
      this.headQueue.push(e);
      this.updateDepth();
      this.pump();
    });
  }

  /** Sends what is queued without waiting for more, and resolves once nothing is queued or running. */
  drain(): Promise<void> {
    this.flushing = true;
    this.pump();
    if (this.depth === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((done) => {
      this.drained = done;
    });
  }

  private arm(e: ImagesEntry | HeadEntry, queue: (ImagesEntry | HeadEntry)[]): void {
    const wait = e.deadline - Date.now();
    e.timer = setTimeout(
      () => {
        if (e.state === 'done') return;
        const where = e.state === 'queued' ? 'waiting for a worker' : 'while a worker ran it';
        if (e.state === 'queued') queue.splice(queue.indexOf(e), 1);
        e.state = 'done';
        this.metrics.rejected.inc({ reason: 'deadline' });
        this.updateDepth();
        e.reject(new ServeError('deadline', `the request's deadline passed ${where}`));
        this.checkDrained();
      },
      Math.max(0, wait),
    );
  }

  private settle(e: Entry): boolean {
    if (e.state === 'done') return false;
    e.state = 'done';
    clearTimeout(e.timer);
    return true;
  }

  private updateDepth(): void {
    this.metrics.queueDepth.set(this.depth);
    this.metrics.workersBusy.set(this.pool.busy);
  }

  private checkDrained(): void {
    if (this.drained && this.depth === 0 && this.inFlight === 0) {
      const done = this.drained;
      this.drained = undefined;
      done();
    }
  }

  private pump(): void {
    for (;;) {
      const slot = this.pool.idle();
      if (!slot) break;
      if (this.headQueue.length > 0) {
        this.runHead(slot);
        continue;
      }
      if (this.imageQueue.length === 0) break;
      const oldest = this.imageQueue[0]!;
      const queued = this.imageQueue.reduce((n, e) => n + e.uploads.length, 0);
      const due = oldest.enqueuedAt + this.options.maxDelayMs;
      if (!this.flushing && queued < this.options.maxBatch && Date.now() < due) {
        if (!this.timer) {
          this.timer = setTimeout(
            () => {
              this.timer = undefined;
              this.pump();
            },
            Math.max(0, due - Date.now()),
          );
        }
        break;
      }
      this.runImages(slot);
    }
    this.updateDepth();
    this.checkDrained();
  }

  private runImages(slot: Slot): void {
    // Whole requests, in arrival order, up to maxBatch distinct images (at least one request).
    const batch: ImagesEntry[] = [];
    const unique = new Map<string, number>();
    const images: Uint8Array[] = [];
    const indexOf: number[][] = [];
    let uploads = 0;
    while (this.imageQueue.length > 0) {
      const e = this.imageQueue[0]!;
      const hashes = e.uploads.map((u) => createHash('sha256').update(u.bytes).digest('base64'));
      const fresh = new Set(hashes.filter((h) => !unique.has(h))).size;
      if (batch.length > 0 && images.length + fresh > this.options.maxBatch) break;
      this.imageQueue.shift();
      e.state = 'running';
      batch.push(e);
      uploads += e.uploads.length;
      indexOf.push(
        hashes.map((h, i) => {
          let k = unique.get(h);
          if (k === undefined) {
            k = images.length;
            unique.set(h, k);
            images.push(e.uploads[i]!.bytes);
          }
          return k;
        }),
      );
    }
    const pairs = batch.flatMap((e, b) => e.pairs.flatMap(([i, j]) => [indexOf[b]![i]!, indexOf[b]![j]!]));
    const job: ImagesJob = { type: 'images', id: this.nextId++, images, pairs };
    this.metrics.batchImages.observe(images.length);
    this.metrics.batchRequests.observe(batch.length);
    if (uploads > images.length) this.metrics.deduplicated.inc(uploads - images.length);
    const stop = this.metrics.inferenceSeconds.startTimer({ kind: 'images' });
    this.inFlight++;
    this.pool.run(slot, job).then(
      (r) => {
        stop();
        const d = images.length > 0 ? r.embeddings.length / images.length : 0;
        let pair = 0;
        batch.forEach((e, b) => {
          const idx = indexOf[b]!;
          const logits: number[] = [];
          const probabilities: number[] = [];
          for (let p = 0; p < e.pairs.length; p++, pair++) {
            logits.push(r.logits[pair]!);
            probabilities.push(r.probabilities[pair]!);
          }
          if (!this.settle(e)) return;
          const bad = idx.findIndex((k) => r.failures[k] !== null);
          if (bad >= 0) {
            const f = r.failures[idx[bad]!]!;
            const field = e.uploads[bad]!.field;
            e.reject(
              new ServeError(
                f.code === 'pixel-limit' ? 'too-large' : 'invalid-image',
                `field '${field}': ${f.message}`,
                field,
              ),
            );
            return;
          }
          e.resolve({
            embeddings: idx.map((k) => r.embeddings.slice(k * d, (k + 1) * d)),
            logits,
            probabilities,
          });
        });
        this.done();
      },
      (err: Error) => {
        stop();
        this.fail(batch, err);
        this.done();
      },
    );
  }

  private runHead(slot: Slot): void {
    const first = this.headQueue[0]!;
    const key = first.rows.key;
    const group =
      key === undefined
        ? [first]
        : this.headQueue
            .filter((e) => e.rows.key === key && e.rows.count === first.rows.count)
            .slice(0, HEAD_GROUP);
    for (const e of group) {
      this.headQueue.splice(this.headQueue.indexOf(e), 1);
      e.state = 'running';
    }
    const d = first.query.length;
    const queries = new Float32Array(group.length * d);
    group.forEach((e, i) => {
      queries.set(e.query, i * d);
    });
    const send = key === undefined || slot.tableKey !== key;
    const rows = first.rows;
    const job: HeadJob = {
      type: 'head',
      id: this.nextId++,
      queries,
      rows: rows.count,
      ...(send ? { table: rows.data.subarray(0, rows.count * d) } : {}),
      ...(key !== undefined ? { tableKey: key } : {}),
    };
    if (key !== undefined) slot.tableKey = key;
    const stop = this.metrics.inferenceSeconds.startTimer({ kind: 'head' });
    this.inFlight++;
    this.pool.run(slot, job).then(
      (r) => {
        stop();
        group.forEach((e, i) => {
          if (this.settle(e)) e.resolve(r.logits.slice(i * rows.count, (i + 1) * rows.count));
        });
        this.done();
      },
      (err: Error) => {
        stop();
        this.fail(group, err);
        this.done();
      },
    );
  }

  private fail(entries: readonly Entry[], err: Error): void {
    const e2 =
      err instanceof ServeError
        ? err
        : new ServeError('internal', 'inference failed on a worker (see server log)');
    if (err instanceof ServeError && err.code === 'worker-crashed')
      this.metrics.rejected.inc({ reason: 'worker-crashed' });
    else if (!(err instanceof ServeError)) console.error(`siamese serve: ${err.message}`);
    for (const e of entries) if (this.settle(e)) e.reject(e2);
  }

  private done(): void {
    this.inFlight--;
    this.pump();
  }
}

/**
 * A small pool of inference workers (child processes, see worker.ts), one job at a time each.
 * The server's micro-batcher decides what a job holds and when it goes; the pool only knows which
 * worker is free, whether all are warm, and what happens when one dies: its job fails at once
 * (`worker-crashed`, 503) and a replacement starts.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ServeConfigError, ServeError } from './errors.js';
import type {
  FromWorker,
  HeadJob,
  HeadResult,
  ImagesJob,
  ImagesResult,
  ModelInfo,
  ToWorker,
  WorkerInit,
} from './protocol.js';

/** The compiled worker; from the sources (tests), the build next to them. */
const WORKER_FILE = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../dist/worker.js' : './worker.js', import.meta.url),
);

export interface PoolOptions {
  readonly size: number;
  readonly init: Omit<WorkerInit, 'type' | 'generation'>;
  /** How long a worker may take to close before it is killed. Default 10 s. */
  readonly closeTimeoutMs?: number;
}

/** What a worker runs: one micro-batch of images, or the head over a table (search). */
export type Job = ImagesJob | HeadJob;
/** A job's answer. */
export type JobResult<J extends Job> = J extends ImagesJob ? ImagesResult : HeadResult;

/** The job a worker is running and who waits for it. */
export interface Pending {
  readonly job: Job;
  resolve(r: ImagesResult | HeadResult): void;
  reject(e: Error): void;
}

export interface Slot {
  readonly index: number;
  /** Which table (gallery version) the worker keeps, so a head job need not send it again. */
  tableKey?: string;
  state: 'starting' | 'idle' | 'busy' | 'closing' | 'dead';
  child: ChildProcess;
  pending?: Pending;
  /** Increments with every replacement of this slot. */
  generation: number;
}

/** Events: 'idle' (a worker became free), 'ready' (all warm), 'crash' (slot index). */
export class WorkerPool extends EventEmitter {
  readonly slots: Slot[] = [];
  private closing = false;
  private info?: ModelInfo;

  constructor(private readonly options: PoolOptions) {
    super();
  }

  /** Starts every worker; resolves with the model once the first is warm (rejects if it cannot load). */
  start(): Promise<ModelInfo> {
    return new Promise((resolve, reject) => {
      let settled = false;
      for (let i = 0; i < this.options.size; i++) {
        this.spawn(i, {
          ready: (info) => {
            if (!settled) {
              settled = true;
              resolve(info);
            }
          },
          failed: (message) => {
            if (!settled) {
              settled = true;
              void this.close();
              reject(new ServeConfigError(message.startsWith('model') ? message : `model: ${message}`));
            }
          },
        });
      }
    });
  }

  get model(): ModelInfo | undefined {
    return this.info;
  }

  /** Every worker is warm and none is closing. */
  get ready(): boolean {
    return !this.closing && this.slots.every((s) => s.state === 'idle' || s.state === 'busy');
  }

  get warm(): number {
    return this.slots.filter((s) => s.state === 'idle' || s.state === 'busy').length;
  }

  idle(): Slot | undefined {
    return this.closing ? undefined : this.slots.find((s) => s.state === 'idle');
  }

  get busy(): number {
    return this.slots.filter((s) => s.state === 'busy').length;
  }

  /** Runs `job` on the idle worker `slot`. */
  run<J extends Job>(slot: Slot, job: J): Promise<JobResult<J>> {
    if (slot.state !== 'idle') throw new Error(`worker ${slot.index} is ${slot.state}`);
    slot.state = 'busy';
    return new Promise<JobResult<J>>((resolve, reject) => {
      slot.pending = { job, resolve: resolve as Pending['resolve'], reject };
      slot.child.send(job satisfies ToWorker, (e) => {
        if (e && slot.pending?.job === job) this.finish(slot, new ServeError('worker-crashed', String(e)));
      });
    });
  }

  /** Stops every worker after its current job (the server drains before calling this). */
  async close(): Promise<void> {
    this.closing = true;
    const timeout = this.options.closeTimeoutMs ?? 10_000;
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((done) => {
            if (s.state === 'dead' || s.child.exitCode !== null || s.child.signalCode !== null) {
              done();
              return;
            }
            s.state = 'closing';
            const timer = setTimeout(() => s.child.kill('SIGKILL'), timeout);
            s.child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            if (s.child.connected) s.child.send({ type: 'close' } satisfies ToWorker);
            else s.child.kill('SIGKILL');
          }),
      ),
    );
  }

  private spawn(
    index: number,
    first?: { ready(info: ModelInfo): void; failed(message: string): void },
  ): void {
    const generation = this.slots[index] ? this.slots[index].generation + 1 : 0;
    const child = fork(WORKER_FILE, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
    const slot: Slot = { index, state: 'starting', child, generation };
    this.slots[index] = slot;
    child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        this.info ??= m.info;
        slot.state = this.closing ? 'closing' : 'idle';
        first?.ready(m.info);
        if (this.ready) this.emit('ready');
        this.emit('idle');
      } else if (m.type === 'failed') {
        first?.failed(m.message);
      } else if (slot.pending && m.id === slot.pending.job.id) {
        if (m.type === 'job-failed') this.finish(slot, new Error(`worker ${index}: ${m.message}`));
        else this.finish(slot, undefined, m);
      }
    });
    child.on('error', () => {
      // 'exit' follows (or the fork failed, which the exit of a never-started child reports).
    });
    child.on('exit', (code, signal) => {
      const wasStarting = slot.state === 'starting';
      slot.state = 'dead';
      if (slot.pending) {
        this.finish(
          slot,
          new ServeError(
            'worker-crashed',
            `the inference worker stopped (${signal ?? `exit code ${code}`}) while running this request; retry it`,
            undefined,
            1,
          ),
        );
      }
      if (this.closing) return;
      this.emit('crash', index);
      if (wasStarting && !this.info) {
        first?.failed(
          `the inference worker stopped while loading the model (${signal ?? `exit code ${code}`})`,
        );
        return;
      }
      // A replacement; a worker that keeps dying while loading is retried at most once a second.
      setTimeout(() => this.closing || this.spawn(index), wasStarting ? 1000 : 0).unref();
    });
    child.send({ type: 'init', ...this.options.init, generation } satisfies ToWorker);
  }

  private finish(slot: Slot, error?: Error, result?: ImagesResult | HeadResult): void {
    const p = slot.pending;
    slot.pending = undefined;
    if (slot.state === 'busy') slot.state = 'idle';
    if (error) p?.reject(error);
    else if (result) p?.resolve(result);
    if (slot.state === 'idle') this.emit('idle');
  }
}

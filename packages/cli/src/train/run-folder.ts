/**
 * A training run's output folder has one owner. `RunFolder.claim` takes an exclusive lock (pid,
 * host and run id in OUT/.lock: a live owner refuses a second run; a stale lock of a dead process
 * on this host is taken over with a warning, so --resume after a crash just works), decides what
 * the run is (a fresh run refuses a folder holding another run unless --overwrite; --resume
 * continues only the run recorded in OUT/run.json, with the same settings), and writes the run's
 * manifest. Only the run's own files are ever moved or removed: a user's files in OUT stay.
 *
 * Written here rather than with a lock library: the lock must carry pid, host and run id, and be
 * judged stale by whether that process still runs on this host, not by a timestamp.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { processAlive, recoverFolder, writeFileAtomic } from '@siamese/core';
import { UsageError } from '../errors.js';

export const LOCK_FILE = '.lock';
export const RUN_FILE = 'run.json';
/**
 * The files a run writes: the only entries of OUT a run ever moves or removes. `checkpoints`
 * first: a replaced run is moved aside in this order, so a move cut short by a kill is recognised
 * (its checkpoints are aside) and undone.
 */
const RUN_ENTRIES = [
  'checkpoints',
  'model',
  'run.json',
  'metrics.jsonl',
  'split.json',
  'split-openset.json',
  'report.html',
];
/** Folders whose swaps a killed run may have left half done. */
const SWAPPED = [
  'model',
  'checkpoints/last',
  'checkpoints/best',
  'checkpoints/frozen/last',
  'checkpoints/frozen/best',
  'checkpoints/then/last',
  'checkpoints/then/best',
];

interface Lock {
  readonly pid: number;
  readonly host: string;
  readonly runId: string;
  readonly since: string;
}

export interface RunManifest {
  readonly format: 'siamese-run';
  readonly runId: string;
  readonly status: 'running' | 'completed' | 'interrupted' | 'failed';
  readonly started: string;
  /** Every command line that trained this run: the first, then each --resume. */
  readonly commands: readonly (readonly string[])[];
  /** The settings that define the run; --resume must match them (see RESUMABLE). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly [more: string]: unknown;
}

/** Settings a resumed run may change: how long and where it trains, not what it trains. */
const RESUMABLE = new Set(['epochs', 'patience', 'backend', 'device', 'resume', 'out', 'overwrite']);

function code(e: unknown): string | undefined {
  return (e as { code?: string } | undefined)?.code;
}

/** The one-line reason a path cannot be written, from its error code. */
function cannotWrite(out: string, e: unknown): UsageError {
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOTDIR: 'a path component is a file, not a folder',
    EEXIST: 'it is a file, not a folder',
    ENOSPC: 'the disk is full',
  };
  const c = code(e);
  return new UsageError(`--out '${out}': cannot write there: ${(c && why[c]) ?? (e as Error).message}`);
}

function describeOwner(l: Lock): string {
  return `pid ${l.pid} on ${l.host}, run ${l.runId}, since ${l.since}`;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch((e: unknown) => {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  });
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

async function present(dir: string): Promise<string[]> {
  const names = new Set(await readdir(dir).catch(() => [] as string[]));
  return RUN_ENTRIES.filter((n) => names.has(n));
}

const hasCheckpoints = async (dir: string) =>
  (await readdir(join(dir, 'checkpoints')).catch(() => [] as string[])).length > 0;

export function newRunId(): string {
  return `${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

export interface ClaimOptions {
  readonly resume: boolean;
  readonly overwrite: boolean;
  /** The settings of this run, compared with the recorded run's on --resume. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly command: readonly string[];
  readonly warn: (line: string) => void;
}

export class RunFolder {
  private released = false;
  private readonly onExit = (): void => {
    // process.exit (a second Ctrl-C) runs no finally: at least the lock goes.
    if (!this.released) rmSync(join(this.dir, LOCK_FILE), { force: true });
  };

  private constructor(
    readonly dir: string,
    readonly runId: string,
    /** The run being resumed, when there is one. */
    readonly resumed: RunManifest | undefined,
    /** A run this one replaced (--overwrite), kept aside until this run has a checkpoint. */
    private previous: string | undefined,
    private readonly created: boolean,
    private manifest: RunManifest,
  ) {
    process.on('exit', this.onExit);
  }

  /** What model.json records of the run that trained it. */
  provenance(): Record<string, unknown> {
    const { format: _format, status: _status, ...rest } = this.manifest;
    return { ...rest, created: new Date().toISOString() };
  }

  /** Adds fields to OUT/run.json (written atomically). */
  async record(fields: Readonly<Record<string, unknown>>): Promise<void> {
    this.manifest = { ...this.manifest, ...fields };
    await writeManifest(this.dir, this.manifest);
  }

  /** The replaced run is gone for good once this one has something of its own to keep. */
  async dropPrevious(): Promise<void> {
    if (!this.previous) return;
    const p = this.previous;
    this.previous = undefined;
    await rm(p, { recursive: true, force: true });
  }

  /**
   * A fresh run that failed before its first checkpoint leaves nothing behind: the files it wrote
   * are removed, and a run it was replacing is put back. Returns whether it did.
   */
  async abandon(): Promise<boolean> {
    if (this.resumed || (await hasCheckpoints(this.dir))) return false;
    for (const name of await present(this.dir))
      await rm(join(this.dir, name), { recursive: true, force: true });
    if (this.previous) {
      await restoreAside(this.previous, this.dir);
      this.previous = undefined;
    }
    return true;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    // Only our own lock: never one another run holds now.
    const lock = await readJson<Lock>(join(this.dir, LOCK_FILE));
    if (lock?.pid === process.pid && lock.runId === this.runId)
      await rm(join(this.dir, LOCK_FILE), { force: true });
    // A folder this run created and left empty (an abandoned run) goes too.
    if (this.created && (await readdir(this.dir).catch(() => ['?'])).length === 0)
      await rmdir(this.dir).catch(() => undefined);
  }

  static async claim(out: string, o: ClaimOptions): Promise<RunFolder> {
    let created = false;
    try {
      created = (await mkdir(out, { recursive: true })) !== undefined;
    } catch (e) {
      throw cannotWrite(out, e);
    }
    const runId = newRunId();
    const me = { pid: process.pid, host: hostname(), runId, since: new Date().toISOString() };
    await takeLock(out, me, o.warn);
    let previous: string | undefined;
    try {
      // We hold the lock: whatever swap or move is half done here was left by a dead run.
      for (const sub of SWAPPED) {
        const did = await recoverFolder(join(out, sub), { owned: true });
        if (did) o.warn(`warning: a run was killed while saving: ${did}`);
      }
      await settleDeadRuns(out, o.warn);
      const holdsRun = (await present(out)).length > 0;
      let recorded = await readJson<RunManifest>(join(out, RUN_FILE));
      if (o.resume && holdsRun) {
        if (recorded?.format !== 'siamese-run') {
          // A folder from before run.json: adopt it, as there is no record to check against.
          o.warn(
            `warning: '${out}' has no ${RUN_FILE} (a run from an older version): resuming it as run ${runId} with these settings`,
          );
          recorded = {
            format: 'siamese-run',
            runId,
            status: 'running',
            started: me.since,
            commands: [],
            settings: o.settings,
          };
        }
        checkSameSettings(recorded, o.settings);
        const manifest: RunManifest = {
          ...withoutOutcome(recorded),
          status: 'running',
          resumedAt: me.since,
          settings: o.settings,
          commands: [...(recorded.commands ?? []), [...o.command]],
        };
        await writeManifest(out, manifest);
        await rewriteLock(out, { ...me, runId: recorded.runId });
        return new RunFolder(out, recorded.runId, recorded, undefined, created, manifest);
      }
      if (holdsRun) {
        const what = recorded?.runId
          ? `run ${recorded.runId} (started ${recorded.started})`
          : 'the files of an earlier run';
        if (!o.overwrite) {
          throw new UsageError(
            `--out '${out}' holds ${what}: use --resume to continue it, --overwrite to replace it, or another --out`,
          );
        }
        previous = await moveAside(out);
        o.warn(
          `note: --overwrite: ${what} moved aside; it is deleted once this run saves its first checkpoint`,
        );
      }
      const manifest: RunManifest = {
        format: 'siamese-run',
        runId,
        status: 'running',
        started: me.since,
        commands: [[...o.command]],
        settings: o.settings,
      };
      await writeManifest(out, manifest);
      return new RunFolder(out, runId, undefined, previous, created, manifest);
    } catch (e) {
      if (previous) await restoreAside(previous, out).catch(() => undefined);
      await unlink(join(out, LOCK_FILE)).catch(() => undefined);
      throw e instanceof UsageError ? e : cannotWrite(out, e);
    }
  }
}

function withoutOutcome(m: RunManifest): RunManifest {
  const { error: _error, ended: _ended, ...rest } = m;
  return rest as RunManifest;
}

async function writeManifest(out: string, m: RunManifest): Promise<void> {
  await writeFileAtomic(join(out, RUN_FILE), new TextEncoder().encode(`${JSON.stringify(m, null, 1)}\n`));
}

/** Creates `path` holding `body`, or fails with EEXIST: written aside, then hard-linked, so never seen empty. */
async function createFull(path: string, body: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  await writeFileAtomic(tmp, new TextEncoder().encode(body));
  try {
    await link(tmp, path);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function rewriteLock(out: string, me: Lock): Promise<void> {
  const tmp = join(out, `${LOCK_FILE}.${process.pid}.tmp`);
  await writeFileAtomic(tmp, new TextEncoder().encode(`${JSON.stringify(me)}\n`));
  await rename(tmp, join(out, LOCK_FILE));
}

/** The lock, or why not: a live owner, an owner on another host, or an unwritable folder. */
async function takeLock(out: string, me: Lock, warn: (line: string) => void): Promise<void> {
  const path = join(out, LOCK_FILE);
  const body = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await createFull(path, body);
      return;
    } catch (e) {
      if (code(e) !== 'EEXIST') throw cannotWrite(out, e);
    }
    const owner = await readJson<Lock>(path);
    if (owner && owner.host !== me.host) {
      throw new UsageError(
        `--out '${out}' is in use by a run on another machine (${describeOwner(owner)}); if that run is gone, delete ${path}`,
      );
    }
    if (owner && processAlive(owner.pid) && owner.pid !== me.pid) {
      throw new UsageError(
        `--out '${out}' is in use by another siamese train (${describeOwner(owner)}); wait for it to finish or use another --out (if no such run exists, delete ${path})`,
      );
    }
    // Stale. One taker at a time: whoever creates the guard replaces the lock, after checking
    // that it is still the same dead owner's.
    const guard = `${path}.takeover`;
    try {
      await createFull(guard, body);
    } catch (e) {
      if (code(e) !== 'EEXIST') throw cannotWrite(out, e);
      const holder = await readJson<Lock>(guard);
      if (holder && processAlive(holder.pid)) continue; // another taker is at it: look again
      await unlink(guard).catch(() => undefined); // a taker that died mid-takeover
      continue;
    }
    try {
      const again = await readJson<Lock>(path);
      if (JSON.stringify(again) !== JSON.stringify(owner)) continue;
      await rewriteLock(out, me);
    } finally {
      await unlink(guard).catch(() => undefined);
    }
    warn(
      `warning: took over the lock of a run that is no longer running (${owner ? describeOwner(owner) : 'unreadable lock'})`,
    );
    return;
  }
  throw new UsageError(`--out '${out}' is being claimed by other siamese train runs right now; try again`);
}

/**
 * What runs that died left: a fresh run killed before its first checkpoint (its run.json says
 * running, no checkpoint) is abandoned, as it would have abandoned itself; a run it replaced is
 * put back. A replaced run whose replacement did save a checkpoint is deleted.
 */
async function settleDeadRuns(out: string, warn: (line: string) => void): Promise<void> {
  // Temporary files of atomic writes a killed run never renamed (`.split.json.<pid>.<hex>.tmp`).
  for (const name of await readdir(out)) {
    if (/^\..+\.\d+\.[0-9a-f]+\.tmp$/.test(name)) await rm(join(out, name), { force: true });
  }
  const prefix = `.${basename(out)}.previous-`;
  const asides = (await readdir(dirname(out))).filter((name) => {
    if (!name.startsWith(prefix)) return false;
    return !processAlive(Number(name.slice(prefix.length).split('.')[0]));
  });
  const recorded = await readJson<RunManifest>(join(out, RUN_FILE));
  const deadFresh = recorded?.status === 'running' && !(await hasCheckpoints(out));
  if (deadFresh || (asides.length > 0 && !(await hasCheckpoints(out)))) {
    for (const name of await present(out)) await rm(join(out, name), { recursive: true, force: true });
    if (recorded)
      warn(`warning: run ${recorded.runId} died before its first checkpoint; its files are removed`);
  }
  for (const name of asides) {
    const aside = join(dirname(out), name);
    if (await hasCheckpoints(out)) {
      await rm(aside, { recursive: true, force: true });
      warn(`note: removed ${aside}, a run replaced by --overwrite`);
    } else {
      await restoreAside(aside, out);
      warn(
        `warning: put back the run that ${aside} held: the run replacing it died before its first checkpoint`,
      );
    }
  }
}

/** The flag that sets a setting, for messages: `batchSize` is `--batch-size`. */
function flagOf(setting: string): string {
  const special: Record<string, string> = {
    source: '--data',
    height: '--size',
    width: '--size',
    hidden: 'model.head.hidden',
    dropout: 'model.head.dropout',
    normalizeEmbeddings: 'model.normalizeEmbeddings',
    'loss.kind': '--loss',
    'loss.easyMargin': '--easy-margin',
    'then.loss': '--then',
  };
  const last = setting.split('.').at(-1)!;
  return special[setting] ?? `--${last.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Nested settings as dotted keys (`loss.margin`), so a change names its own flag. */
function flat(o: Readonly<Record<string, unknown>>, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(o)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [kk, vv] of flat(v as Record<string, unknown>, `${prefix}${k}.`)) out.set(kk, vv);
    } else out.set(`${prefix}${k}`, v);
  }
  return out;
}

/** `--resume` with other settings is another run: name the first setting that differs. */
function checkSameSettings(recorded: RunManifest, now: Readonly<Record<string, unknown>>): void {
  const [was, is] = [flat(recorded.settings ?? {}), flat(now)];
  for (const k of new Set([...was.keys(), ...is.keys()])) {
    if (RESUMABLE.has(k) || k === 'then.epochs') continue;
    const [a, b] = [JSON.stringify(was.get(k)), JSON.stringify(is.get(k))];
    if (a !== b) {
      throw new UsageError(
        `--resume: ${flagOf(k)} is ${b ?? 'unset'} but run ${recorded.runId} was started with ${a ?? 'unset'}; resume with the same settings, or start a new run with --overwrite`,
      );
    }
  }
}

/** Moves the run's own entries (checkpoints first) into a new hidden sibling, `.<name>.previous-<pid>.<tag>`. */
async function moveAside(out: string): Promise<string> {
  const aside = join(
    dirname(out),
    `.${basename(out)}.previous-${process.pid}.${randomBytes(3).toString('hex')}`,
  );
  await mkdir(aside);
  for (const name of await present(out)) await rename(join(out, name), join(aside, name));
  return aside;
}

/** Puts a moved-aside run back where it was (the entries OUT lacks) and removes the aside folder. */
async function restoreAside(aside: string, out: string): Promise<void> {
  const here = new Set(await readdir(out));
  for (const name of await readdir(aside)) {
    if (!here.has(name)) await rename(join(aside, name), join(out, name));
  }
  await rm(aside, { recursive: true, force: true });
}

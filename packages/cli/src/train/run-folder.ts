/**
 * A training run's output folder has one owner. `claimRunFolder` takes an exclusive lock (pid and
 * host in OUT/.lock: a live owner refuses a second run; a stale lock of a dead process on this
 * host is taken over with a warning, so --resume after a crash just works), decides what the run
 * is (a fresh run refuses a folder holding another run unless --overwrite; --resume continues only
 * the run recorded in OUT/run.json, with the same settings), and writes the run's manifest.
 *
 * Written here rather than with a lock library: the lock must carry pid, host and run id, and be
 * judged stale by whether that process still runs on this host, not by a timestamp.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { processAlive, recoverFolder, writeFileAtomic } from '@siamese/core';
import { UsageError } from '../errors.js';

export const LOCK_FILE = '.lock';
export const RUN_FILE = 'run.json';
/** What a run writes; any of them in a folder means the folder holds a run. */
const RUN_ENTRIES = ['run.json', 'model', 'checkpoints', 'metrics.jsonl', 'split.json', 'report.html'];
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
  readonly command: readonly string[];
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

  private constructor(
    readonly dir: string,
    readonly runId: string,
    /** The run being resumed, when there is one. */
    readonly resumed: RunManifest | undefined,
    /** A run this one replaced (--overwrite), kept aside until this run has a checkpoint. */
    private previous: string | undefined,
    private readonly created: boolean,
    private manifest: RunManifest,
  ) {}

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
   * A fresh run that failed before its first checkpoint leaves nothing behind: what it wrote is
   * removed, and a run it was replacing is put back. Returns whether it did.
   */
  async abandon(): Promise<boolean> {
    if (this.resumed) return false;
    const hasCheckpoint = (await readdir(join(this.dir, 'checkpoints')).catch(() => [])).length > 0;
    if (hasCheckpoint) return false;
    for (const name of await readdir(this.dir)) {
      if (name !== LOCK_FILE) await rm(join(this.dir, name), { recursive: true, force: true });
    }
    if (this.previous) {
      for (const name of await readdir(this.previous))
        await rename(join(this.previous, name), join(this.dir, name));
      await rmdir(this.previous).catch(() => undefined);
      this.previous = undefined;
    }
    return true;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
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
    await takeLock(
      out,
      { pid: process.pid, host: hostname(), runId, since: new Date().toISOString() },
      o.warn,
    );
    try {
      await dropStaleSiblings(out, o.warn);
      for (const sub of SWAPPED) {
        const did = await recoverFolder(join(out, sub));
        if (did) o.warn(`warning: a run was killed while saving: ${did}`);
      }
      const entries = (await readdir(out)).filter((n) => n !== LOCK_FILE && !n.startsWith('.'));
      const holdsRun = entries.some((n) => RUN_ENTRIES.includes(n));
      const recorded = await readJson<RunManifest>(join(out, RUN_FILE));
      const command = [...o.command];
      if (o.resume && holdsRun) {
        if (recorded?.format !== 'siamese-run') {
          throw new UsageError(
            `--resume: '${out}' has no ${RUN_FILE} saying which run it holds; start a new run there with --overwrite`,
          );
        }
        checkSameSettings(recorded, o.settings);
        const manifest = {
          ...recorded,
          status: 'running' as const,
          resumedAt: new Date().toISOString(),
          command,
        };
        await writeManifest(out, manifest);
        return new RunFolder(out, recorded.runId, recorded, undefined, created, manifest);
      }
      let previous: string | undefined;
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
        started: new Date().toISOString(),
        command,
        settings: o.settings,
      };
      await writeManifest(out, manifest);
      return new RunFolder(out, runId, undefined, previous, created, manifest);
    } catch (e) {
      await rm(join(out, LOCK_FILE), { force: true });
      throw e instanceof UsageError ? e : cannotWrite(out, e);
    }
  }
}

async function writeManifest(out: string, m: RunManifest): Promise<void> {
  await writeFileAtomic(join(out, RUN_FILE), new TextEncoder().encode(`${JSON.stringify(m, null, 1)}\n`));
}

/** The lock, or why not: a live owner, an owner on another host, or an unwritable folder. */
async function takeLock(out: string, me: Lock, warn: (line: string) => void): Promise<void> {
  const path = join(out, LOCK_FILE);
  const body = `${JSON.stringify(me)}\n`;
  try {
    const f = await open(path, 'wx');
    await f.writeFile(body);
    await f.close();
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
      `--out '${out}' is in use by another siamese train (${describeOwner(owner)}); wait for it to finish or use another --out`,
    );
  }
  // Stale: its process is gone. Replace it atomically, then make sure no other taker won the race.
  const tmp = `${path}.${me.pid}.tmp`;
  await writeFileAtomic(tmp, new TextEncoder().encode(body));
  await rename(tmp, path);
  const now = await readJson<Lock>(path);
  if (now?.pid !== me.pid || now.runId !== me.runId)
    throw new UsageError(
      `--out '${out}' was just taken by another siamese train (${now ? describeOwner(now) : 'unknown'})`,
    );
  warn(
    `warning: took over the lock of a run that is no longer running (${owner ? describeOwner(owner) : 'unreadable lock'})`,
  );
}

/** `--resume` with other settings is another run: name the first setting that differs. */
function checkSameSettings(recorded: RunManifest, now: Readonly<Record<string, unknown>>): void {
  const keys = new Set([...Object.keys(recorded.settings ?? {}), ...Object.keys(now)]);
  for (const k of keys) {
    if (RESUMABLE.has(k)) continue;
    const [a, b] = [JSON.stringify(recorded.settings?.[k]), JSON.stringify(now[k])];
    if (a !== b) {
      throw new UsageError(
        `--resume: ${flagOf(k)} is ${b ?? 'unset'} but run ${recorded.runId} was started with ${a ?? 'unset'}; resume with the same settings, or start a new run with --overwrite`,
      );
    }
  }
}

/** The flag that sets a setting, for messages: `batchSize` is `--batch-size`. */
function flagOf(setting: string): string {
  const special: Record<string, string> = {
    source: 'data',
    height: 'size',
    width: 'size',
    hidden: 'model.head.hidden',
  };
  const name = special[setting] ?? setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return name.includes('.') ? name : `--${name}`;
}

/** Moves every entry but the lock into a new hidden sibling, `.<name>.previous-<pid>.<tag>`. */
async function moveAside(out: string): Promise<string> {
  const aside = join(
    dirname(out),
    `.${basename(out)}.previous-${process.pid}.${randomBytes(3).toString('hex')}`,
  );
  await mkdir(aside);
  for (const name of await readdir(out)) {
    if (name !== LOCK_FILE) await rename(join(out, name), join(aside, name));
  }
  return aside;
}

/** Replaced runs left aside by runs that died: deleted, as their replacement intended. */
async function dropStaleSiblings(out: string, warn: (line: string) => void): Promise<void> {
  const prefix = `.${basename(out)}.previous-`;
  for (const name of await readdir(dirname(out))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (processAlive(pid)) continue;
    await rm(join(dirname(out), name), { recursive: true, force: true });
    warn(`note: removed ${join(dirname(out), name)}, a run replaced by --overwrite`);
  }
}

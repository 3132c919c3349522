/**
 * Replacing a folder of files as one unit (Node only), so that a kill -9 at any instant leaves
 * either the old folder or the new one, never a mix and never nothing:
 *
 *   1. fill `.<name>.<tag>.tmp`            (incomplete: thrown away on recovery)
 *   2. rename it to `.<name>.<tag>.ready`  (the commit point: complete from here on)
 *   3. move over the old folder's files that fill did not write (an exported model.onnx, say)
 *   4. rename `<name>` to `.<name>.<tag>.old`
 *   5. rename the ready folder to `<name>`
 *   6. remove the old folder
 *
 * `recoverFolder` finishes or undoes whatever step a killed writer stopped at: the newest complete
 * version wins. `replaceFolder` runs it first, so every writer starts from a clean state.
 *
 * A reader in another process (`siamese serve` on the model a training run is saving) could still
 * see a mix: the old model.json with the new weights, a file carried away in step 3, or no folder
 * at all between steps 4 and 5. `readFolder` reads one version whole: a swap gives the folder a
 * new identity, and a read that saw one, or failed while a swap was under way, is done again.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string'
    ? e.code
    : undefined;
}

/** The points between the swap's steps, in order: where a fault can be injected. */
export const SWAP_STEPS = ['filled', 'ready', 'carried', 'moved-old', 'swapped'] as const;
export type SwapStep = (typeof SWAP_STEPS)[number];

/**
 * Fault injection for tests and bench/faults: `SIAMESE_FAILPOINT=swap:<step>[:<n>[:<name>]]`
 * kills this process with SIGKILL (no cleanup, no finally) when its n-th swap (default the 1st)
 * reaches <step>; with <name>, the n-th swap of folders with that name (e.g. `swap:ready:2:last`).
 */
const swaps = new Map<string, number>();
function failpoint(step: SwapStep, name: string, counts: { all: number; named: number }): void {
  const spec = process.env.SIAMESE_FAILPOINT;
  if (!spec?.startsWith('swap:')) return;
  const [, at, nth, only] = spec.split(':');
  if (at !== step || (only !== undefined && only !== name)) return;
  if ((only === undefined ? counts.all : counts.named) === Number(nth ?? '1'))
    process.kill(process.pid, 'SIGKILL');
}

async function entries(dir: string): Promise<string[] | undefined> {
  return readdir(dir).catch((e: unknown) => {
    if (errorCode(e) === 'ENOENT') return undefined;
    throw e;
  });
}

/** Moves the files of `from` that `to` lacks into `to`. */
async function carry(from: string, to: string): Promise<void> {
  const written = new Set(await readdir(to));
  for (const name of (await entries(from)) ?? []) {
    if (!written.has(name)) await rename(join(from, name), join(to, name));
  }
}

/**
 * Calls `fill(tmp)` to write the new contents, then puts them at `dir`. Files in the old folder
 * that `fill` did not write are carried over.
 */
export async function replaceFolder(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  const name = basename(dir);
  await mkdir(parent, { recursive: true });
  await recoverFolder(dir);
  swaps.set('', (swaps.get('') ?? 0) + 1);
  swaps.set(name, (swaps.get(name) ?? 0) + 1);
  const n = { all: swaps.get('')!, named: swaps.get(name)! };
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${name}.${tag}.tmp`);
  const ready = join(parent, `.${name}.${tag}.ready`);
  const old = join(parent, `.${name}.${tag}.old`);
  await mkdir(tmp);
  try {
    await fill(tmp);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  failpoint('filled', name, n);
  await rename(tmp, ready);
  failpoint('ready', name, n);
  await finishSwap(dir, ready, old, (step) => failpoint(step, name, n));
}

/** Steps 3-6 for a ready folder. */
async function finishSwap(
  dir: string,
  ready: string,
  old: string,
  fault: (step: SwapStep) => void = () => undefined,
): Promise<void> {
  await carry(dir, ready);
  fault('carried');
  if ((await entries(dir)) !== undefined) await rename(dir, old);
  fault('moved-old');
  await rename(ready, dir);
  fault('swapped');
  await rm(old, { recursive: true, force: true }).catch(() => undefined);
}

/** The folder's identity: a swap puts another directory at its path. Undefined when it is absent. */
async function identity(dir: string): Promise<string | undefined> {
  // Any error (ENOENT, ENOTDIR, EACCES) is the reader's to report in its own words.
  const s = await stat(dir).catch(() => undefined);
  return s && `${s.dev}:${s.ino}:${s.ctimeMs}`;
}

/** Whether a writer has a complete new version of `dir` waiting or is moving the old one aside. */
async function swapUnderWay(dir: string): Promise<boolean> {
  const name = basename(dir);
  const siblings = (await readdir(dirname(dir)).catch(() => undefined)) ?? [];
  return siblings.some((e) => {
    const sibling = swapSibling(name, e);
    // A dead writer's leftovers wait for recoverFolder: only a live writer's swap ends soon.
    return (
      (sibling?.state === 'ready' || sibling?.state === 'old') &&
      processAlive(Number(sibling.tag.split('.')[0]))
    );
  });
}

/**
 * `read(dir)` on one version of a folder that `replaceFolder` may swap meanwhile: a read during
 * which the folder was swapped, or that failed while a swap was under way, is done again (up to
 * `attempts` times, waiting a little longer each time). Errors of a folder nobody is swapping are
 * `read`'s own.
 */
export async function readFolder<T>(
  dir: string,
  read: (dir: string) => Promise<T>,
  o: { readonly attempts?: number } = {},
): Promise<T> {
  const attempts = o.attempts ?? 50;
  for (let attempt = 1; ; attempt++) {
    const before = await identity(dir);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await read(dir) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    // Siblings first: a swap that ends between the two looks under way, never over before it began.
    const busy = await swapUnderWay(dir);
    const after = await identity(dir);
    const stable = before !== undefined && after === before;
    if (outcome.ok && stable) return outcome.value;
    if (!outcome.ok && stable && !busy) throw outcome.error;
    if (!outcome.ok && before === undefined && after === undefined && !busy) throw outcome.error;
    if (attempt >= attempts) {
      if (!outcome.ok) throw outcome.error;
      throw new Error(`${dir} was replaced ${attempts} times while it was being read`);
    }
    await new Promise((r) => setTimeout(r, Math.min(50, attempt * 2)));
  }
}

/** Whether another process with this pid is running (EPERM: running, but not ours to signal). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
}

/** The tag and state of a sibling a swap of `name` leaves behind, if `entry` is one. */
function swapSibling(
  name: string,
  entry: string,
): { state: 'tmp' | 'ready' | 'old'; tag: string } | undefined {
  const prefix = `.${name}.`;
  if (!entry.startsWith(prefix)) return undefined;
  const m = /^(\d+\.[0-9a-f]+)\.(tmp|ready|old)$/.exec(entry.slice(prefix.length));
  return m ? { tag: m[1]!, state: m[2] as 'tmp' | 'ready' | 'old' } : undefined;
}

/**
 * Puts `dir` back in a clean state after a writer was killed mid-swap: the newest complete
 * version (a ready folder, else the folder itself, else a moved-aside old one) ends up at `dir`;
 * incomplete and superseded copies are removed. Returns what it did, for a warning, or undefined
 * when there was nothing to recover.
 */
export async function recoverFolder(
  dir: string,
  o: {
    /**
     * The caller owns the folder (holds its lock): every leftover is a dead writer's, even one
     * whose pid a new process has since taken.
     */
    readonly owned?: boolean;
  } = {},
): Promise<string | undefined> {
  const parent = dirname(dir);
  const name = basename(dir);
  const siblings = ((await entries(parent)) ?? [])
    .map((entry) => ({ entry, ...swapSibling(name, entry) }))
    .filter((s): s is { entry: string; state: 'tmp' | 'ready' | 'old'; tag: string } => s.state !== undefined)
    // A swap another live process is in the middle of is its own business.
    .filter((s) => {
      const pid = Number(s.tag.split('.')[0]);
      return o.owned === true || pid === process.pid || !processAlive(pid);
    });
  if (siblings.length === 0) return undefined;
  const path = (entry: string) => join(parent, entry);
  const readies = siblings.filter((s) => s.state === 'ready');
  const olds = siblings.filter((s) => s.state === 'old');
  for (const s of siblings.filter((x) => x.state === 'tmp'))
    await rm(path(s.entry), { recursive: true, force: true });
  let did =
    readies.length > 0 || olds.length === 0
      ? 'removed an incomplete copy'
      : 'removed the copy a finished swap replaced';
  if (readies.length > 0) {
    // Several ready copies only if writers were killed repeatedly: the newest one wins.
    const times = await Promise.all(readies.map(async (r) => (await stat(path(r.entry))).mtimeMs));
    const newest = readies[times.indexOf(Math.max(...times))]!;
    for (const r of readies) if (r !== newest) await rm(path(r.entry), { recursive: true, force: true });
    // A moved-aside old folder still holds files the swap had not carried yet.
    for (const o of olds) await carry(path(o.entry), path(newest.entry));
    await finishSwap(dir, path(newest.entry), path(`.${name}.${newest.tag}.old`));
    did = 'completed an interrupted swap';
  } else if ((await entries(dir)) === undefined && olds.length > 0) {
    await rename(path(olds[0]!.entry), dir);
    did = 'restored the previous copy';
  }
  for (const o of olds) await rm(path(o.entry), { recursive: true, force: true });
  return `${dir}: ${did}`;
}

#!/usr/bin/env node
// Fault battery for `siamese train`'s run folders (issue #14, "Trustworthy runs"): kill -9 at random
// instants and at every step of the checkpoint / model folder swap, each followed by --resume until
// the run completes; a full disk; concurrent runs into one folder. Prints a table per part and a
// summary; exits 1 when a target is missed. Uses the built CLI (packages/cli/dist/bin.js).
//   node bench/faults/run.mjs                       # everything (~6-10 min on 2 cores)
//   node bench/faults/run.mjs --seed 7 --runs 5 --parts kill,concurrent
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from '../lib/stats.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'packages/cli/dist/bin.js');
const PARTS = ['kill', 'failpoint', 'disk', 'concurrent', 'stale', 'race'];
const SWAP_STEPS = ['filled', 'ready', 'carried', 'moved-old', 'swapped'];
/** recoverFolder's words, shortened for the tables. */
const SWAP_WARNINGS = {
  'completed an interrupted swap': 'swap completed',
  'restored the previous copy': 'old restored',
  'removed an incomplete copy': 'copy removed',
};

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '5' },
    'race-rounds': { type: 'string', default: '10' },
    parts: { type: 'string', default: PARTS.join(',') },
    data: { type: 'string', default: 'mnist:0-2' },
    arch: { type: 'string', default: 'resnet10_w8' },
    epochs: { type: 'string', default: '4' },
    'pairs-per-epoch': { type: 'string', default: '128' },
    'val-pairs': { type: 'string', default: '60' },
    'batch-size': { type: 'string', default: '16' },
    // 'run': kill delays uniform over the whole clean run; 'training': over its training part only.
    'kill-window': { type: 'string', default: 'run' },
    'disk-size': { type: 'string', default: '3m' },
    timeout: { type: 'string', default: '300' },
    keep: { type: 'boolean', default: false },
  },
});
const E = Number(args.epochs);
const parts = new Set(args.parts.split(','));
for (const p of parts)
  if (!PARTS.includes(p)) throw new Error(`--parts: unknown part '${p}' (${PARTS.join(', ')})`);
if (!['run', 'training'].includes(args['kill-window'])) throw new Error("--kill-window: 'run' or 'training'");
const TIMEOUT_MS = Number(args.timeout) * 1000;
const trainArgs = (out) => [
  '--data',
  args.data,
  '--arch',
  args.arch,
  '--epochs',
  String(E),
  '--pairs-per-epoch',
  args['pairs-per-epoch'],
  '--val-pairs',
  args['val-pairs'],
  '--batch-size',
  args['batch-size'],
  '--out',
  out,
];

/** mulberry32: the kill delays are reproducible for a --seed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Children

const live = new Set();

/**
 * Starts `siamese train ...` with stdout/stderr piped (so progress is one plain line per epoch).
 * `done` resolves on close with { code, signal, stdout, stderr, seconds, timedOut, startedAt }.
 */
function start(cliArgs, env = {}) {
  const childEnv = { ...process.env, ...env };
  if (!('SIAMESE_FAILPOINT' in env)) delete childEnv.SIAMESE_FAILPOINT;
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'train', ...cliArgs], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const r = { stdout: '', stderr: '', lines: [], timedOut: false };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  let partial = '';
  child.stdout.on('data', (d) => {
    r.stdout += d;
    const text = partial + d;
    const cut = text.lastIndexOf('\n');
    for (const line of text.slice(0, cut + 1).split('\n'))
      if (line) r.lines.push({ t: (performance.now() - t0) / 1000, line });
    partial = text.slice(cut + 1);
  });
  child.stderr.on('data', (d) => {
    r.stderr += d;
  });
  const timer = setTimeout(() => {
    r.timedOut = true;
    child.kill('SIGKILL');
  }, TIMEOUT_MS);
  const done = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ ...r, code, signal, seconds: (performance.now() - t0) / 1000 });
    }),
  );
  return { child, done, exited: () => child.exitCode !== null || child.signalCode !== null };
}

const EPOCH_LINE = /^epoch (\d+)\/(\d+) train loss/;
const START_LINE = /^training on .*: (\d+) epochs? of (\d+) steps(?:, resumed at step (\d+))?$/m;

/** The last `epoch k/E train loss ...` line printed (0 if none). */
function lastEpochPrinted(stdout) {
  let last = 0;
  for (const line of stdout.split('\n')) {
    const m = EPOCH_LINE.exec(line);
    if (m) last = Number(m[1]);
  }
  return last;
}

/** Epochs a (resumed) run starts from, from its `training on ...` line; undefined without one. */
function startedFrom(stdout) {
  const m = START_LINE.exec(stdout);
  if (!m) return undefined;
  return m[3] ? Number(m[3]) / Number(m[2]) : 0;
}

const firstLine = (text) => text.split('\n').find((l) => l.trim()) ?? '';
const short = (text, n = 140) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

// ---------------------------------------------------------------------------------------------
// Reading a run folder

async function readJson(path) {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

async function entries(dir) {
  return readdir(dir).catch(() => []);
}

/** Whether a safetensors file is whole: header length, JSON header, size = 8 + header + data. */
async function safetensorsOk(path) {
  let bytes;
  try {
    bytes = await readFile(path);
  } catch {
    return false;
  }
  if (bytes.length < 8) return false;
  const n = Number(bytes.readBigUInt64LE(0));
  if (8 + n > bytes.length) return false;
  let header;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  } catch {
    return false;
  }
  let end = 0;
  for (const [k, v] of Object.entries(header))
    if (k !== '__metadata__') end = Math.max(end, v.data_offsets[1]);
  return bytes.length === 8 + n + end;
}

/** Problems of a model folder (model.json + weights.safetensors) or checkpoint (+ trainer, optimizer). */
async function wholeProblems(dir, name, checkpoint) {
  const problems = [];
  if (!(await readJson(join(dir, 'model.json')))) problems.push(`${name}/model.json missing or not JSON`);
  if (!(await safetensorsOk(join(dir, 'weights.safetensors'))))
    problems.push(`${name}/weights.safetensors missing or cut`);
  if (checkpoint) {
    const t = await readJson(join(dir, 'trainer.json'));
    if (t?.format !== 'siamese-trainer' || !Number.isInteger(t.epoch))
      problems.push(`${name}/trainer.json missing or not a trainer state`);
    if (!(await safetensorsOk(join(dir, 'optimizer.safetensors'))))
      problems.push(`${name}/optimizer.safetensors missing or cut`);
  }
  return problems;
}

const SWAP_SIBLING = /^\.(last|best|model)\.\d+\.[0-9a-f]+\.(tmp|ready|old)$/;
const ATOMIC_TMP = /^\..+\.\d+\.[0-9a-f]+\.tmp$/;

/** Folders a run writes into, for leftovers: OUT, OUT/checkpoints and its stage folders. */
async function runDirs(out) {
  const dirs = [out, join(out, 'checkpoints')];
  for (const stage of ['frozen', 'then'])
    if (existsSync(join(out, 'checkpoints', stage))) dirs.push(join(out, 'checkpoints', stage));
  return dirs;
}

/** Swap siblings a killed writer left (`.last.*`, `.best.*`, `.model.*`), relative to OUT. */
async function swapLeftovers(out) {
  const found = [];
  for (const d of await runDirs(out))
    for (const e of await entries(d)) if (SWAP_SIBLING.test(e)) found.push(relative(out, join(d, e)));
  return found;
}

/** Other leftovers (not "mixed"): a lock no live run holds, atomic-write temp files. */
async function otherLeftovers(out) {
  const found = [];
  for (const d of await runDirs(out))
    for (const e of await entries(d)) {
      if (e === '.lock' && d === out) found.push('.lock');
      else if (!SWAP_SIBLING.test(e) && ATOMIC_TMP.test(e)) found.push(relative(out, join(d, e)));
    }
  return found;
}

/** The epoch of the checkpoint a resume should continue: the newest complete version of OUT/checkpoints/last. */
async function savedEpoch(out) {
  const lastDir = join(out, 'checkpoints', 'last');
  const parent = dirname(lastDir);
  const sib = [];
  for (const e of await entries(parent)) {
    const m = /^\.last\.\d+\.[0-9a-f]+\.(tmp|ready|old)$/.exec(e);
    if (m) sib.push({ path: join(parent, e), state: m[1], mtime: (await stat(join(parent, e))).mtimeMs });
  }
  const epochOf = async (dir) => (await readJson(join(dir, 'trainer.json')))?.epoch;
  const ready = sib.filter((s) => s.state === 'ready').sort((a, b) => b.mtime - a.mtime)[0];
  if (ready) return { epoch: await epochOf(ready.path), from: 'ready sibling' };
  if (existsSync(lastDir)) return { epoch: await epochOf(lastDir), from: 'last' };
  const old = sib.find((s) => s.state === 'old');
  if (old) return { epoch: await epochOf(old.path), from: 'old sibling' };
  return { epoch: 0, from: 'none' };
}

/**
 * Why a finished run folder is "mixed" (empty: it is not): run.json and the last checkpoint from
 * different runs, metrics.jsonl not listing epochs 1..E once each, no model, swap leftovers.
 */
async function mixedProblems(out) {
  const problems = [];
  const run = await readJson(join(out, 'run.json'));
  const trainer = await readJson(join(out, 'checkpoints', 'last', 'trainer.json'));
  if (!run) problems.push('run.json missing or not JSON');
  else if (run.status !== 'completed') problems.push(`run.json status '${run.status}'`);
  if (!trainer) problems.push('checkpoints/last/trainer.json missing or not JSON');
  if (run && trainer && run.runId !== trainer.runId)
    problems.push(`run.json runId ${run.runId} != checkpoint runId ${trainer.runId}`);
  if (trainer && trainer.epoch !== E) problems.push(`checkpoint epoch ${trainer.epoch} != ${E}`);
  problems.push(
    ...(await wholeProblems(join(out, 'checkpoints', 'last'), 'checkpoints/last', true)).filter(
      (p) => !p.includes('trainer.json'),
    ),
  );
  let text;
  try {
    text = await readFile(join(out, 'metrics.jsonl'), 'utf8');
  } catch {
    problems.push('metrics.jsonl missing');
  }
  if (text !== undefined) {
    const records = text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return { type: 'unparsable' };
        }
      });
    const epochs = records.filter((r) => r.type === 'epoch').map((r) => r.epoch);
    const want = Array.from({ length: E }, (_, i) => i + 1);
    if (epochs.join(',') !== want.join(','))
      problems.push(`metrics.jsonl epochs [${epochs.join(',')}], not [${want.join(',')}]`);
    if (records.some((r) => r.type === 'unparsable')) problems.push('metrics.jsonl has an unparsable line');
  }
  if (!existsSync(join(out, 'model'))) problems.push('model/ missing');
  else problems.push(...(await wholeProblems(join(out, 'model'), 'model', false)));
  const strays = await swapLeftovers(out);
  if (strays.length) problems.push(`swap leftovers: ${strays.join(' ')}`);
  return problems;
}

/** `find`-like listing of a folder (hidden files included), for reports. */
async function listing(dir, depth = 3) {
  const rows = [];
  const walk = async (d, level) => {
    for (const e of (await entries(d)).sort()) {
      const p = join(d, e);
      const s = await stat(p).catch(() => undefined);
      rows.push(`  ${relative(dir, p)}${s?.isDirectory() ? '/' : ` (${s?.size ?? '?'} B)`}`);
      if (s?.isDirectory() && level < depth) await walk(p, level + 1);
    }
  };
  await walk(dir, 1);
  return rows.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Parts

const work = await mkdtemp(join(tmpdir(), 'siamese-faults-'));
let mounted;
let missed = false;
const failures = []; // details of every problem, printed at the end

async function cleanup() {
  for (const c of live) c.kill('SIGKILL');
  if (mounted) {
    try {
      execFileSync('umount', [mounted], { stdio: 'pipe' });
    } catch (e) {
      console.error(`warning: cannot unmount ${mounted}: ${firstLine(String(e.stderr ?? e.message))}`);
    }
    mounted = undefined;
  }
}
process.on('SIGINT', async () => {
  await cleanup();
  console.error(`interrupted; files left in ${work}`);
  process.exit(130);
});

/** A clean run: its duration (and when training began) sets the kill delays. */
async function cleanRun() {
  const out = join(work, 'clean', 'out');
  const r = await start(trainArgs(out)).done;
  const problems = r.code === 0 ? await mixedProblems(out) : [`exit ${r.code}: ${firstLine(r.stderr)}`];
  const trainingAt = r.lines.find((l) => l.line.startsWith('training on '))?.t ?? 0;
  console.log(
    `clean run: ${r.seconds.toFixed(1)} s (training from ${trainingAt.toFixed(1)} s), ${problems.length ? `PROBLEMS: ${problems.join('; ')}` : 'folder ok'}`,
  );
  if (problems.length) {
    missed = true;
    failures.push({ what: 'clean run', problems, files: await listing(out) });
  }
  return { seconds: r.seconds, trainingAt };
}

/**
 * One run killed (after `delayS` seconds, or by a failpoint), then resumed until it completes.
 * Returns the row of the table and the counts.
 */
async function killAndResume(name, { delayS, failpoint, expectSaved }) {
  const out = join(work, name, 'out');
  await mkdir(dirname(out), { recursive: true });
  const first = start(trainArgs(out), failpoint ? { SIAMESE_FAILPOINT: failpoint } : {});
  let timer;
  if (delayS !== undefined)
    timer = setTimeout(() => {
      if (!first.exited()) first.child.kill('SIGKILL');
    }, delayS * 1000);
  const r1 = await first.done;
  clearTimeout(timer);
  const killed = r1.signal === 'SIGKILL' && !r1.timedOut;
  const printed = lastEpochPrinted(r1.stdout);
  const phase = !killed
    ? `exited ${r1.code ?? r1.signal}`
    : !START_LINE.test(r1.stdout)
      ? 'startup'
      : printed < E
        ? 'training'
        : 'finishing';
  const row = {
    name,
    phase,
    printed,
    killed,
    resumes: 0,
    lost: false,
    mixed: false,
    mismatch: false,
    problems: [],
  };
  if (!killed) {
    // Not killed: a clean finish (a delay past the run's end) is checked like any other run.
    if (failpoint) row.problems.push(`failpoint ${failpoint} did not fire (exit ${r1.code})`);
    else if (r1.code !== 0) row.problems.push(`exit ${r1.code}: ${short(firstLine(r1.stderr))}`);
  }
  const saved = killed ? await savedEpoch(out) : { epoch: undefined, from: '-' };
  const lockAfterKill = existsSync(join(out, '.lock'));
  row.saved = saved.epoch;
  let resumedFrom;
  const warnings = new Set();
  let finished = !killed && r1.code === 0;
  for (let attempt = 0; killed && !finished && attempt < 2; attempt++) {
    const r2 = await start([...trainArgs(out), '--resume']).done;
    row.resumes++;
    if (attempt === 0) resumedFrom = startedFrom(r2.stdout);
    for (const l of r2.stderr.split('\n')) {
      if (/took over the lock/.test(l)) warnings.add('stale lock');
      if (/died before its first checkpoint/.test(l)) warnings.add('dead fresh run removed');
      const swap = /killed while saving: .*\/([^/]+): (.+)$/.exec(l);
      if (swap) warnings.add(`${swap[1]}: ${SWAP_WARNINGS[swap[2]] ?? swap[2]}`);
    }
    if (r2.code === 0) finished = true;
    else {
      row.mixed = true;
      row.problems.push(
        `resume ${attempt + 1} exit ${r2.code ?? r2.signal}${r2.timedOut ? ' (timed out)' : ''}: ${short(firstLine(r2.stderr))}`,
      );
    }
  }
  row.resumedFrom = resumedFrom;
  if (killed) {
    if (lockAfterKill && !warnings.has('stale lock'))
      row.problems.push('a stale lock was taken over without a warning');
    if (resumedFrom !== undefined) {
      row.lostEpochs = printed - resumedFrom;
      if (row.lostEpochs > 1) {
        row.lost = true;
        row.problems.push(
          `resumed from epoch ${resumedFrom}, but epoch ${printed} was printed before the kill`,
        );
      }
      if (saved.epoch !== undefined && resumedFrom !== saved.epoch) {
        row.mismatch = true;
        row.problems.push(
          `resumed from epoch ${resumedFrom}, the newest complete checkpoint held epoch ${saved.epoch} (${saved.from})`,
        );
      }
    }
    if (expectSaved !== undefined && saved.epoch !== expectSaved)
      row.problems.push(
        `after the kill the newest complete checkpoint holds epoch ${saved.epoch}, expected ${expectSaved}`,
      );
  }
  if (finished) {
    const mixed = await mixedProblems(out);
    if (mixed.length) {
      row.mixed = true;
      row.problems.push(...mixed);
    }
  }
  row.warnings = [...warnings].join(', ') || '-';
  const other = await otherLeftovers(out);
  row.leftovers = other.join(' ');
  if (row.problems.length) failures.push({ what: name, problems: row.problems, files: await listing(out) });
  return row;
}

function killTable(rows, label) {
  console.log(
    table([
      [
        label,
        'phase at kill',
        'last epoch printed',
        'checkpoint after kill',
        'resumed from',
        'lost',
        'resume warnings',
        'leftovers',
        'problems',
      ],
      ...rows.map((r) => [
        r.label,
        r.phase,
        r.printed,
        r.saved ?? '-',
        r.resumedFrom ?? '-',
        r.lostEpochs ?? '-',
        r.warnings,
        r.leftovers || '-',
        r.problems.length ? short(r.problems.join('; '), 100) : 'ok',
      ]),
    ]),
  );
}

async function concurrentRound(i) {
  const out = join(work, `concurrent-${i}`, 'out');
  await mkdir(dirname(out), { recursive: true });
  const rs = await Promise.all([0, 1, 2].map(() => start(trainArgs(out)).done));
  const codes = rs.map((r) => r.code ?? r.signal);
  const problems = [];
  const winners = rs.filter((r) => r.code === 0).length;
  if (winners !== 1) problems.push(`${winners} runs exited 0`);
  for (const r of rs.filter((x) => x.code !== 0)) {
    if (r.code !== 2 || !/is in use by another siamese train/.test(r.stderr))
      problems.push(`a run exited ${r.code ?? r.signal}: ${short(firstLine(r.stderr) || '(no stderr)')}`);
  }
  for (const r of rs)
    if (/took over the lock/.test(r.stderr))
      problems.push(
        `a run took over the lock: ${short(r.stderr.split('\n').find((l) => /took over/.test(l)))}`,
      );
  const mixed = await mixedProblems(out);
  problems.push(...mixed);
  const other = await otherLeftovers(out);
  if (other.includes('.lock')) problems.push('.lock left after every run ended');
  if (problems.length) failures.push({ what: `concurrent round ${i}`, problems, files: await listing(out) });
  return { i, codes: codes.join(' '), ok: problems.length === 0, mixed: mixed.length > 0, problems };
}

/** A dead process's pid: a node that has already exited. */
async function deadPid() {
  const c = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => c.on('close', r));
  return c.pid;
}

/**
 * Extra (not in the issue's list): 3 runs at once into a folder whose lock is stale (its process is
 * dead) and which holds a run killed mid-training, all with --resume: the stale lock must go to
 * exactly one of them.
 */
async function staleRound(i) {
  const out = join(work, `stale-${i}`, 'out');
  await mkdir(dirname(out), { recursive: true });
  // A run to resume: killed after its first checkpoint.
  const first = start(trainArgs(out));
  const t = setInterval(() => {
    if (existsSync(join(out, 'checkpoints', 'last', 'trainer.json'))) first.child.kill('SIGKILL');
  }, 20);
  await first.done;
  clearInterval(t);
  // The killed run's own lock is the stale one; written here only if it had none.
  if (!existsSync(join(out, '.lock')))
    await writeFile(
      join(out, '.lock'),
      `${JSON.stringify({ pid: await deadPid(), host: hostname(), runId: 'stale', since: new Date().toISOString() })}\n`,
    );
  const rs = await Promise.all([0, 1, 2].map(() => start([...trainArgs(out), '--resume']).done));
  const codes = rs.map((r) => r.code ?? r.signal);
  const problems = [];
  const winners = rs.filter((r) => r.code === 0).length;
  if (winners !== 1) problems.push(`${winners} runs exited 0`);
  for (const r of rs.filter((x) => x.code !== 0)) {
    if (
      r.code !== 2 ||
      !/(is in use by another|was just taken by another|is being claimed by other) siamese train/.test(
        r.stderr,
      )
    )
      problems.push(`a run exited ${r.code ?? r.signal}: ${short(firstLine(r.stderr) || '(no stderr)')}`);
  }
  const takers = rs.filter((r) => /took over the lock/.test(r.stderr)).length;
  if (takers !== 1) problems.push(`${takers} runs took over the stale lock`);
  problems.push(...(await mixedProblems(out)));
  if (problems.length) failures.push({ what: `stale-lock round ${i}`, problems, files: await listing(out) });
  return { i, codes: codes.join(' '), ok: problems.length === 0, problems };
}

/**
 * A process that claims OUT through RunFolder.claim (packages/cli/dist, what `siamese train` calls
 * first) at wall-clock instant AT, holds it a second and releases it: 3 of them claim within the
 * same millisecond, which whole CLI processes (1-2 s of start-up jitter) rarely do.
 */
const CLAIMER = `
const { RunFolder } = await import(process.argv[1]);
const [out, at, resume] = [process.argv[2], Number(process.argv[3]), process.argv[4] === 'resume'];
while (Date.now() < at) {}
try {
  const f = await RunFolder.claim(out, { resume, overwrite: false, settings: { race: 1 }, command: ['race'], warn: (l) => console.log(l) });
  console.log('claimed');
  await new Promise((r) => setTimeout(r, 1000));
  await f.release();
} catch (e) {
  console.log('refused: ' + e.message);
}`;
const RUN_FOLDER = pathToFileURL(join(ROOT, 'packages/cli/dist/train/run-folder.js')).href;

/** Extra: 3 claims in the same millisecond of a fresh folder ('fresh') or one with a stale lock ('stale'). */
async function raceRound(kind, i) {
  const out = join(work, `race-${kind}-${i}`, 'out');
  await mkdir(out, { recursive: true });
  if (kind === 'stale')
    await writeFile(
      join(out, '.lock'),
      `${JSON.stringify({ pid: await deadPid(), host: hostname(), runId: 'stale', since: new Date().toISOString() })}\n`,
    );
  const at = Date.now() + 1000;
  const rs = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise((resolve) => {
          const c = spawn(
            process.execPath,
            [
              '--input-type=module',
              '-e',
              CLAIMER,
              RUN_FOLDER,
              out,
              String(at),
              kind === 'stale' ? 'resume' : '',
            ],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          let text = '';
          c.stdout.on('data', (d) => (text += d));
          c.stderr.on('data', (d) => (text += d));
          c.on('close', () => resolve(text.trim()));
        }),
    ),
  );
  const claimed = rs.filter((t) => t.split('\n').includes('claimed')).length;
  const takers = rs.filter((t) => /took over the lock/.test(t)).length;
  const problems = [];
  if (claimed !== 1) problems.push(`${claimed} claims succeeded`);
  if (kind === 'fresh' && takers) problems.push(`${takers} took over the (live, just created) lock as stale`);
  if (kind === 'stale' && takers !== 1) problems.push(`${takers} took over the stale lock`);
  for (const t of rs) {
    const m = /^refused: (.*)$/m.exec(t);
    if (
      m &&
      !/(is in use by another|was just taken by another|is being claimed by other) siamese train/.test(m[1])
    )
      problems.push(`refused for another reason: ${short(m[1], 90)}`);
  }
  if (problems.length)
    failures.push({
      what: `lock race (${kind}) round ${i}`,
      problems,
      files: rs.map((t) => `  ${t.replace(/\n/g, ' / ')}`).join('\n'),
    });
  return { kind, i, ok: problems.length === 0, problems };
}

async function diskFull() {
  const dir = join(work, 'tmpfs');
  await mkdir(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${args['disk-size']}`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
    mounted = dir;
  } catch (e) {
    const why = firstLine(String(e.stderr || '')) || e.message;
    return { result: 'skipped', line: `disk full: skipped (cannot mount a tmpfs here: ${why})` };
  }
  try {
    const out = join(dir, 'out');
    const r = await start(trainArgs(out)).done;
    const problems = [];
    const lines = r.stderr.split('\n').filter((l) => l.trim());
    if (r.code === 0) problems.push(`exit 0: the run did not run out of space in ${args['disk-size']}`);
    if (r.signal) problems.push(`ended by ${r.signal}`);
    if (lines.length !== 1) problems.push(`${lines.length} stderr lines, not 1`);
    if (!lines.some((l) => /ENOSPC|disk is full|no space left/i.test(l)))
      problems.push('no stderr line names ENOSPC / disk full');
    const present = [];
    for (const d of ['last', 'best', 'frozen/last', 'frozen/best', 'then/last', 'then/best'])
      if (existsSync(join(out, 'checkpoints', d))) {
        present.push(`checkpoints/${d}`);
        problems.push(...(await wholeProblems(join(out, 'checkpoints', d), `checkpoints/${d}`, true)));
      }
    if (existsSync(join(out, 'model'))) {
      present.push('model');
      problems.push(...(await wholeProblems(join(out, 'model'), 'model', false)));
    }
    const strays = await swapLeftovers(out);
    if (strays.length) problems.push(`swap leftovers: ${strays.join(' ')}`);
    const other = await otherLeftovers(out);
    if (other.length) problems.push(`leftovers: ${other.join(' ')}`);
    const status = (await readJson(join(out, 'run.json')))?.status ?? 'no run.json';
    const summary = `exit ${r.code}, stderr: ${short(lines.join(' | '), 200)}; whole: ${present.join(', ') || 'no checkpoint'}; run.json status ${status}`;
    if (problems.length) failures.push({ what: 'disk full', problems, files: await listing(out) });
    return {
      result: problems.length ? 'FAILED' : 'ok',
      line: `disk full (${args['disk-size']} tmpfs): ${problems.length ? `FAILED: ${problems.join('; ')}` : 'ok'}; ${summary}`,
    };
  } finally {
    await cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// The battery

const began = performance.now();
console.log(`siamese fault battery: seed ${args.seed}, parts ${[...parts].join(',')}, work dir ${work}`);
console.log(`train ${trainArgs('OUT').join(' ')}`);
const rand = random(Number(args.seed));
const killRows = [];
const fpRows = [];
const concurrent = [];
const stale = [];
const race = [];
let disk = { result: 'not run', line: 'disk full: not run' };
try {
  if (parts.has('kill')) {
    const clean = await cleanRun();
    const [lo, hi] =
      args['kill-window'] === 'training' ? [clean.trainingAt, clean.seconds] : [0, clean.seconds];
    console.log(
      `\n1. kill -9 at a random instant (uniform over ${lo.toFixed(1)}-${hi.toFixed(1)} s), then --resume until done`,
    );
    for (let i = 1; i <= Number(args.runs); i++) {
      const delayS = lo + rand() * (hi - lo);
      const row = await killAndResume(`kill-${i}`, { delayS });
      row.label = `${i} @${delayS.toFixed(2)}s`;
      killRows.push(row);
      console.log(
        `  run ${i}: kill at ${delayS.toFixed(2)} s, ${row.phase}; ${row.problems.length ? row.problems.join('; ') : 'ok'}`,
      );
    }
    killTable(killRows, 'run @kill');
  }
  if (parts.has('failpoint')) {
    console.log('\n2. kill -9 at each swap step (SIAMESE_FAILPOINT), then --resume');
    const cases = [
      ...SWAP_STEPS.map((s) => ({ fp: `swap:${s}:2:last`, expectSaved: s === 'filled' ? 1 : 2 })),
      ...SWAP_STEPS.map((s) => ({ fp: `swap:${s}:1:model`, expectSaved: E })),
    ];
    for (const c of cases) {
      const row = await killAndResume(`fp-${c.fp.replace(/:/g, '-')}`, {
        failpoint: c.fp,
        expectSaved: c.expectSaved,
      });
      row.label = c.fp;
      fpRows.push(row);
      console.log(`  ${c.fp}: ${row.phase}; ${row.problems.length ? row.problems.join('; ') : 'ok'}`);
    }
    killTable(fpRows, 'failpoint');
  }
  if (parts.has('disk')) {
    console.log('\n3. disk full');
    disk = await diskFull();
    console.log(disk.line);
  }
  if (parts.has('concurrent')) {
    console.log(`\n4. ${args.rounds} rounds of 3 runs at once into one fresh folder`);
    for (let i = 1; i <= Number(args.rounds); i++) {
      const r = await concurrentRound(i);
      concurrent.push(r);
      console.log(`  round ${i}: exit codes ${r.codes}; ${r.ok ? 'ok' : r.problems.join('; ')}`);
    }
  }
  if (parts.has('stale')) {
    console.log('\n5. (extra) 3 --resume runs at once over a stale lock, 3 rounds');
    for (let i = 1; i <= 3; i++) {
      const r = await staleRound(i);
      stale.push(r);
      console.log(`  round ${i}: exit codes ${r.codes}; ${r.ok ? 'ok' : r.problems.join('; ')}`);
    }
  }
  if (parts.has('race')) {
    console.log(
      `\n6. (extra) lock races: 3 RunFolder.claim calls in the same millisecond, ${args['race-rounds']} rounds each`,
    );
    for (const kind of ['fresh', 'stale'])
      for (let i = 1; i <= Number(args['race-rounds']); i++) {
        const r = await raceRound(kind, i);
        race.push(r);
        if (!r.ok) console.log(`  ${kind} round ${i}: ${r.problems.join('; ')}`);
      }
    for (const kind of ['fresh', 'stale']) {
      const rs = race.filter((r) => r.kind === kind);
      console.log(`  ${kind}: ${rs.filter((r) => r.ok).length}/${rs.length} rounds ok`);
    }
  }
} finally {
  await cleanup();
}

const all = [...killRows, ...fpRows];
const count = (f) => all.filter(f).length;
const lost = count((r) => r.lost);
const mixed = count((r) => r.mixed) + concurrent.filter((r) => r.mixed).length;
const mismatched = count((r) => r.mismatch);
const fpMissed = fpRows.filter((r) => !r.killed).length;
const concOk = concurrent.filter((r) => r.ok).length;
const staleOk = stale.filter((r) => r.ok).length;
const otherProblems = count((r) => r.problems.length > 0 && !r.lost && !r.mixed && !r.mismatch);
const summary = [
  ['', 'value', 'target'],
  ['runs (random kills + failpoints)', `${all.length} (${killRows.length} + ${fpRows.length})`, ''],
  [
    'kills',
    `${count((r) => r.killed)} (${killRows.filter((r) => r.killed).length} random + ${fpRows.filter((r) => r.killed).length} failpoint)`,
    '',
  ],
  [
    'random kills by phase',
    ['startup', 'training', 'finishing']
      .map((p) => `${p} ${count((r) => !r.label.startsWith('swap:') && r.killed && r.phase === p)}`)
      .join(', '),
    '',
  ],
  ['resumes', all.reduce((s, r) => s + r.resumes, 0), ''],
  ['resumes that lost > 1 checkpoint interval', lost, 0],
  ['resumes not from the newest complete checkpoint', mismatched, 0],
  ['mixed folders', mixed, 0],
  ['failpoints that did not fire', fpMissed, 0],
  ['runs with other problems', otherProblems, 0],
  [
    'concurrent rounds ok',
    parts.has('concurrent') ? `${concOk}/${concurrent.length}` : 'not run',
    parts.has('concurrent') ? `${concurrent.length}/${concurrent.length}` : '',
  ],
  [
    'stale-lock rounds ok (extra)',
    parts.has('stale') ? `${staleOk}/${stale.length}` : 'not run',
    parts.has('stale') ? `${stale.length}/${stale.length}` : '',
  ],
  ...['fresh', 'stale'].map((kind) => {
    const rs = race.filter((r) => r.kind === kind);
    return [
      `lock races, ${kind} folder, ok (extra)`,
      parts.has('race') ? `${rs.filter((r) => r.ok).length}/${rs.length}` : 'not run',
      parts.has('race') ? `${rs.length}/${rs.length}` : '',
    ];
  }),
  ['disk full', disk.result, 'ok (or skipped)'],
];
if (
  lost ||
  mixed ||
  mismatched ||
  fpMissed ||
  otherProblems ||
  concOk < concurrent.length ||
  staleOk < stale.length ||
  race.some((r) => !r.ok) ||
  disk.result === 'FAILED'
)
  missed = true;

if (failures.length) {
  console.log('\nproblems (and the files each folder held at the end, or what each claimer printed):');
  for (const f of failures) console.log(`- ${f.what}: ${f.problems.join('; ')}\n${f.files}`);
}
console.log(`\nsummary (seed ${args.seed}, ${((performance.now() - began) / 60000).toFixed(1)} min)`);
console.log(table(summary));
if (disk.result === 'skipped') console.log(disk.line);
if (missed || args.keep) console.log(`\nfiles kept in ${work}`);
else await rm(work, { recursive: true, force: true });
process.exitCode = missed ? 1 : 0;

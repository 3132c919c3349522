/**
 * A run folder has one owner, and any kill leaves a run that resumes (issue #14's cases 1-7): the
 * real binary, real kills (SIGKILL at a fault-injection point of the checkpoint swap), real races.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Result, siameseCli, tempDir } from '../test/cli.js';

const QUICK = [
  '--data',
  'mnist:0-2',
  '--arch',
  'resnet10_w8',
  '--pairs-per-epoch',
  '64',
  '--val-pairs',
  '60',
  '--batch-size',
  '16',
];
let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await tempDir('siamese-run-folder-');
});
afterAll(() => dir.remove());

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const epochs = (out: string) =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'epoch')
    .map((r) => r.epoch);
const siblings = (out: string) =>
  readdirSync(join(out, '..')).filter((n) => n.startsWith(`.${out.split('/').at(-1)}.`));

/** `siamese ...args` with SIAMESE_FAILPOINT set: the process kills itself there. */
function killedAt(failpoint: string, args: readonly string[]): { signal: string | null; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, SIAMESE_FAILPOINT: failpoint },
    encoding: 'utf8',
  });
  return { signal: r.signal, stdout: r.stdout };
}

describe('a run folder has one owner', () => {
  it('refuses a second run while the first is running, naming its pid and host', async () => {
    const out = join(dir.path, 'busy');
    await mkdir(out, { recursive: true });
    // This test process is alive: as far as the lock says, it owns the folder.
    await writeFile(
      join(out, '.lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), runId: 'r1', since: '2026-12-03T00:00:00Z' }),
    );
    const r = await siameseCli(['train', ...QUICK, '--epochs', '1', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      `siamese train: --out '${out}' is in use by another siamese train (pid ${process.pid} on ${hostname()}, run r1, since 2026-12-03T00:00:00Z); wait for it to finish or use another --out (if no such run exists, delete ${join(out, '.lock')})`,
    ]);
    expect(readdirSync(out)).toEqual(['.lock']);
  });

  it('two runs started together into one folder: one trains, the other is refused', async () => {
    const out = join(dir.path, 'race');
    const run = () =>
      new Promise<Result>((done) => {
        const child = spawn(process.execPath, [BIN, 'train', ...QUICK, '--epochs', '1', '--out', out]);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('close', (code) =>
          done({ code: code ?? 1, stdout, stderr, errLines: stderr.split('\n').filter(Boolean) }),
        );
      });
    const results = await Promise.all([run(), run()]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 2]);
    const refused = results.find((r) => r.code === 2)!;
    expect(refused.errLines.at(-1)).toMatch(/is in use by another siamese train \(pid \d+ on /);
    expect(epochs(out)).toEqual([1]);
    expect(json(join(out, 'run.json')).status).toBe('completed');
    expect(existsSync(join(out, '.lock'))).toBe(false);
  }, 180_000);

  it('takes over the lock of a run that died, with a warning', async () => {
    const out = join(dir.path, 'stale');
    await mkdir(out, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const pid = Number(dead.stdout.trim());
    await writeFile(join(out, '.lock'), JSON.stringify({ pid, host: hostname(), runId: 'gone', since: 'x' }));
    const r = await siameseCli(['train', ...QUICK, '--epochs', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `warning: took over the lock of a run that is no longer running (pid ${pid} on`,
    );
  }, 120_000);
});

describe('fresh runs, --overwrite and --resume', () => {
  it('refuses a fresh run into a folder holding a run; --overwrite replaces it, stale files included', async () => {
    const out = join(dir.path, 'reuse');
    const first = await siameseCli([
      'train',
      ...QUICK,
      '--epochs',
      '1',
      '--holdout-classes',
      '1',
      '--out',
      out,
    ]);
    expect(first.code, first.stderr).toBe(0);
    const runId = json(join(out, 'run.json')).runId;
    const again = await siameseCli(['train', ...QUICK, '--epochs', '1', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.errLines).toHaveLength(1);
    expect(again.errLines[0]).toContain(`--out '${out}' holds run ${runId} (started `);
    expect(again.errLines[0]).toContain(
      'use --resume to continue it, --overwrite to replace it, or another --out',
    );
    const replaced = await siameseCli(['train', ...QUICK, '--epochs', '1', '--overwrite', '--out', out]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(json(join(out, 'run.json')).runId).not.toBe(runId);
    // The old run's open-set split is gone with it: eval --split cannot pick it up.
    expect(existsSync(join(out, 'split-openset.json'))).toBe(false);
    expect(siblings(out)).toEqual([]);
  }, 180_000);

  it('a run that fails before its first checkpoint leaves nothing; one it replaced comes back', async () => {
    const out = join(dir.path, 'failing');
    const bad = await siameseCli(['train', '--data', join(dir.path, 'no-such-folder'), '--out', out]);
    expect(bad.code).toBe(2);
    expect(existsSync(out)).toBe(false);

    const kept = join(dir.path, 'kept');
    expect((await siameseCli(['train', ...QUICK, '--epochs', '1', '--out', kept])).code).toBe(0);
    const before = readFileSync(join(kept, 'metrics.jsonl'), 'utf8');
    const failed = await siameseCli([
      'train',
      '--data',
      join(dir.path, 'no-such-folder'),
      '--overwrite',
      '--out',
      kept,
    ]);
    expect(failed.code).toBe(2);
    expect(readFileSync(join(kept, 'metrics.jsonl'), 'utf8')).toBe(before);
    expect(existsSync(join(kept, 'model/model.json'))).toBe(true);
    expect(siblings(kept)).toEqual([]);
  }, 180_000);

  it("never touches the user's own files in OUT: not on failure, not with --overwrite", async () => {
    const out = join(dir.path, 'shared');
    await mkdir(join(out, 'photos/cat'), { recursive: true });
    await writeFile(join(out, 'notes.txt'), 'mine');
    await writeFile(join(out, 'photos/cat/a.png'), 'not really a png');
    const bad = await siameseCli(['train', '--data', join(dir.path, 'no-such-folder'), '--out', out]);
    expect(bad.code).toBe(2);
    expect(readdirSync(out).sort()).toEqual(['notes.txt', 'photos']);
    expect((await siameseCli(['train', ...QUICK, '--epochs', '1', '--out', out])).code).toBe(0);
    const again = await siameseCli(['train', ...QUICK, '--epochs', '1', '--overwrite', '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(out, 'photos/cat/a.png'))).toBe(true);
  }, 180_000);

  it('--resume continues only with the same settings, naming the one that changed', async () => {
    const out = join(dir.path, 'settings');
    expect((await siameseCli(['train', ...QUICK, '--epochs', '1', '--lr', '0.001', '--out', out])).code).toBe(
      0,
    );
    const r = await siameseCli([
      'train',
      ...QUICK,
      '--epochs',
      '2',
      '--lr',
      '0.01',
      '--resume',
      '--out',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      `siamese train: --resume: --lr is 0.01 but run ${json(join(out, 'run.json')).runId} was started with 0.001; resume with the same settings, or start a new run with --overwrite`,
    ]);
    // More epochs are fine.
    const more = await siameseCli([
      'train',
      ...QUICK,
      '--epochs',
      '2',
      '--lr',
      '0.001',
      '--resume',
      '--out',
      out,
    ]);
    expect(more.code, more.stderr).toBe(0);
    expect(epochs(out)).toEqual([1, 2]);
  }, 180_000);

  it('cannot write there: one line with the real cause', async () => {
    const file = join(dir.path, 'a-file');
    await writeFile(file, 'x');
    const r = await siameseCli(['train', ...QUICK, '--out', join(file, 'run')]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      `siamese train: --out '${join(file, 'run')}': cannot write there: a path component is a file, not a folder`,
    ]);
  });
});

describe('kill -9', () => {
  it('in the middle of a checkpoint swap: --resume recovers the newest checkpoint and repeats nothing', async () => {
    const out = join(dir.path, 'killed-swap');
    const args = ['train', ...QUICK, '--epochs', '2', '--out', out];
    // Killed after the epoch-1 checkpoint was complete, with the old folder moved aside.
    const killed = killedAt('swap:moved-old:1:last', args);
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(out, 'checkpoints/last'))).toBe(false);
    const r = await siameseCli(['train', ...args.slice(1), '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /warning: a run was killed while saving: .*checkpoints\/last: completed an interrupted swap/,
    );
    expect(r.stdout).not.toMatch(/epoch 1\/2/);
    expect(r.stdout).toMatch(/epoch 2\/2/);
    expect(epochs(out)).toEqual([1, 2]);
    expect(json(join(out, 'checkpoints/last/trainer.json')).runId).toBe(json(join(out, 'run.json')).runId);
    expect(siblings(join(out, 'checkpoints/last'))).toEqual([]);
  }, 180_000);

  it("before a replacing run's first checkpoint: the replaced run comes back, and is never mistaken for the new one", async () => {
    const out = join(dir.path, 'killed-early');
    expect((await siameseCli(['train', ...QUICK, '--epochs', '1', '--seed', '5', '--out', out])).code).toBe(
      0,
    );
    const old = json(join(out, 'run.json')).runId;
    const args = ['train', ...QUICK, '--epochs', '1', '--seed', '6', '--out', out];
    expect(killedAt('swap:filled:1', [...args, '--overwrite']).signal).toBe('SIGKILL');
    const dead = json(join(out, 'run.json')).runId;
    expect(dead).not.toBe(old);
    const r = await siameseCli([...args, '--resume']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `warning: run ${dead} died before its first checkpoint; its files are removed`,
    );
    expect(r.stderr).toMatch(/warning: put back the run that .*killed-early\.previous-\d+\.[0-9a-f]+ held/);
    expect(r.errLines.at(-1)).toBe(
      `siamese train: --resume: --seed is 6 but run ${old} was started with 5; resume with the same settings, or start a new run with --overwrite`,
    );
    expect(json(join(out, 'run.json')).runId).toBe(old);
    expect(existsSync(join(out, 'model/model.json'))).toBe(true);
    expect(siblings(out)).toEqual([]);
  }, 180_000);

  it('a fresh run killed before its first checkpoint does not block the next one', async () => {
    const out = join(dir.path, 'killed-fresh');
    const args = ['train', ...QUICK, '--epochs', '1', '--out', out];
    expect(killedAt('swap:filled:1', args).signal).toBe('SIGKILL');
    const dead = json(join(out, 'run.json')).runId;
    const r = await siameseCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `warning: run ${dead} died before its first checkpoint; its files are removed`,
    );
    expect(json(join(out, 'run.json')).runId).not.toBe(dead);
  }, 180_000);
});

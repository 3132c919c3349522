import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoverFolder, replaceFolder, SWAP_STEPS } from './folder.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'siamese-folder-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('replaceFolder', () => {
  it('creates, then replaces, keeping files the new contents do not write', async () => {
    const dir = join(root, 'a');
    await replaceFolder(dir, async (tmp) => {
      await writeFile(join(tmp, 'x'), 'one');
      await writeFile(join(tmp, 'y'), 'one');
    });
    await writeFile(join(dir, 'extra.onnx'), 'user file');
    await replaceFolder(dir, async (tmp) => writeFile(join(tmp, 'x'), 'two'));
    expect((await readdir(dir)).sort()).toEqual(['extra.onnx', 'x', 'y']);
    expect(await readFile(join(dir, 'x'), 'utf8')).toBe('two');
    expect(await readFile(join(dir, 'extra.onnx'), 'utf8')).toBe('user file');
    expect((await readdir(root)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('leaves the old folder whole when writing the new one fails midway', async () => {
    const dir = join(root, 'b');
    await replaceFolder(dir, async (tmp) => {
      await writeFile(join(tmp, 'weights'), 'old');
      await writeFile(join(tmp, 'state'), 'old');
    });
    await expect(
      replaceFolder(dir, async (tmp) => {
        await writeFile(join(tmp, 'weights'), 'new');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await readFile(join(dir, 'weights'), 'utf8')).toBe('old');
    expect(await readFile(join(dir, 'state'), 'utf8')).toBe('old');
    expect((await readdir(root)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

/**
 * A real kill -9 at each point of the swap: a child process replaces the folder with
 * SIAMESE_FAILPOINT set, dies by SIGKILL there (no finally, no cleanup), and recovery must leave
 * one whole version (the new one once it was complete) and no stray siblings.
 */
describe('a writer killed mid-swap', () => {
  const writer = `
    import { writeFile } from 'node:fs/promises';
    import { join } from 'node:path';
    const { replaceFolder } = await import(process.argv[1]);
    await replaceFolder(process.argv[2], async (tmp) => {
      await writeFile(join(tmp, 'weights'), 'new');
      await writeFile(join(tmp, 'state'), 'new');
    });
  `;
  // The child runs this very module, transpiled (it imports only node:*), without a build step.
  let folderModule: string;
  beforeAll(async () => {
    const source = await readFile(new URL('./folder.ts', import.meta.url), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    folderModule = join(root, 'folder.mjs');
    await writeFile(folderModule, js);
  });

  it.each(SWAP_STEPS.map((step, i) => [step, i >= 1 ? 'new' : 'old']))(
    'killed at %s: recovery leaves the %s version whole',
    async (step, version) => {
      const dir = join(root, `kill-${step}`);
      await replaceFolder(dir, async (tmp) => {
        await writeFile(join(tmp, 'weights'), 'old');
        await writeFile(join(tmp, 'state'), 'old');
      });
      await writeFile(join(dir, 'extra.onnx'), 'user file');
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', writer, folderModule, dir], {
        env: { ...process.env, SIAMESE_FAILPOINT: `swap:${step}` },
        encoding: 'utf8',
      });
      expect(r.signal, r.stderr).toBe('SIGKILL');
      // Something was left behind for recovery to deal with.
      expect((await readdir(root)).some((n) => n.startsWith(`.kill-${step}.`))).toBe(true);
      const did = await recoverFolder(dir);
      expect(did).toMatch(new RegExp(`kill-${step}: `));
      expect(await readFile(join(dir, 'weights'), 'utf8')).toBe(version);
      expect(await readFile(join(dir, 'state'), 'utf8')).toBe(version);
      expect(await readFile(join(dir, 'extra.onnx'), 'utf8')).toBe('user file');
      expect((await readdir(root)).filter((n) => n.startsWith(`.kill-${step}.`))).toEqual([]);
      expect(await recoverFolder(dir)).toBeUndefined();
    },
    30_000,
  );
});

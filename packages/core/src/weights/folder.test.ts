import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFolder, recoverFolder, replaceFolder, SWAP_STEPS } from './folder.js';

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

  it('readFolder reads one whole version while another process swaps the folder again and again', async () => {
    const dir = join(root, 'busy');
    await replaceFolder(dir, async (tmp) => {
      await writeFile(join(tmp, 'model.json'), '0');
      await writeFile(join(tmp, 'weights'), '0');
    });
    await writeFile(join(dir, 'model.onnx'), 'carried'); // moved to each new version in step 3
    const swaps = 250;
    const loop = `
      import { writeFile } from 'node:fs/promises';
      import { join } from 'node:path';
      const { replaceFolder } = await import(process.argv[1]);
      for (let k = 1; k <= ${swaps}; k++)
        await replaceFolder(process.argv[2], (tmp) =>
          Promise.all([writeFile(join(tmp, 'model.json'), String(k)), writeFile(join(tmp, 'weights'), String(k))]),
        );
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', loop, folderModule, dir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let running = true;
    void exited.then(() => {
      running = false;
    });
    const read = async (d: string): Promise<[string, string, string]> => [
      await readFile(join(d, 'model.json'), 'utf8'),
      await readFile(join(d, 'weights'), 'utf8'),
      await readFile(join(d, 'model.onnx'), 'utf8'),
    ];
    let reads = 0;
    let naiveProblems = 0;
    const seen = new Set<string>();
    try {
      while (running) {
        const [json, weights, onnx] = await readFolder(dir, read);
        expect(weights).toBe(json);
        expect(onnx).toBe('carried');
        seen.add(json);
        reads++;
        // The same reads without readFolder, for the log: how often a reader would have seen a mix.
        const naive = await read(dir).catch(() => undefined);
        if (!naive || naive[0] !== naive[1] || naive[2] !== 'carried') naiveProblems++;
      }
    } finally {
      if (running) child.kill('SIGKILL');
    }
    expect(await exited).toBe(0);
    console.log(
      `readFolder: ${reads} reads during ${swaps} swaps, ${seen.size} versions seen; without it ${naiveProblems} reads saw a mix or no file`,
    );
    expect(seen.size).toBeGreaterThan(1);
    expect(await readFolder(dir, read)).toEqual([`${swaps}`, `${swaps}`, 'carried']);
  }, 120_000);

  it('readFolder gives the error of a folder nobody is swapping at once', async () => {
    const missing = join(root, 'missing');
    let missingCalls = 0;
    await expect(
      readFolder(missing, (d) => {
        missingCalls++;
        return readFile(join(d, 'model.json'), 'utf8');
      }),
    ).rejects.toThrow(/ENOENT/);
    expect(missingCalls).toBe(1);
    const dir = join(root, 'still');
    await replaceFolder(dir, (tmp) => writeFile(join(tmp, 'x'), '1'));
    // A dead writer's leftover (for recoverFolder) is no swap under way.
    await mkdir(join(root, '.still.999999999.abcd1234.ready'));
    let calls = 0;
    await expect(
      readFolder(dir, async () => {
        calls++;
        throw new Error('not a model');
      }),
    ).rejects.toThrow('not a model');
    expect(calls).toBe(1);
    await rm(join(root, '.still.999999999.abcd1234.ready'), { recursive: true });
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

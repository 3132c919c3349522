import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceFolder } from './folder.js';

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

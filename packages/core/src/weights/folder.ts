/**
 * Replacing a folder of files as one unit (Node only): the new contents are written into a
 * temporary sibling folder, then swapped in with renames, so an interrupted or failed save leaves
 * the previous folder as it was, never a mix of old and new files.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string'
    ? e.code
    : undefined;
}

/**
 * Calls `fill(tmp)` to write the new contents, then puts them at `dir`. Files in the old folder
 * that `fill` did not write (an exported model.onnx next to a model, say) are carried over.
 */
export async function replaceFolder(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(dir)}.${tag}.tmp`);
  const old = join(parent, `.${basename(dir)}.${tag}.old`);
  await mkdir(tmp);
  try {
    await fill(tmp);
    const written = new Set(await readdir(tmp));
    const previous = await readdir(dir).catch((e: unknown) => {
      if (errorCode(e) === 'ENOENT') return undefined;
      throw e;
    });
    for (const name of previous ?? []) {
      if (!written.has(name)) await rename(join(dir, name), join(tmp, name));
    }
    if (previous) await rename(dir, old);
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  await rm(old, { recursive: true, force: true }).catch(() => undefined);
}

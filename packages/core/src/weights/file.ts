/**
 * Weights files on disk (Node only). Writes are atomic: overwriting a checkpoint leaves either the
 * old file or the new one, never a half-written mix, whatever fails midway.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Graph } from '../ir/types.js';
import type { Tensor } from '../tensor/tensor.js';
import { weightsForGraph } from './check.js';
import { weightsError } from './errors.js';
import { checkFinite } from './finite.js';
import { decodeSafetensors, encodeSafetensors, type Safetensors } from './safetensors.js';

/**
 * Writes to a temp file in the target's directory (so the rename stays on one file system),
 * fsyncs it, then renames it over the target. On failure the temp file is removed and the error
 * (the file system's own) is rethrown.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  // Hidden, unique per process and call; the base name is cut so the temp name stays under NAME_MAX.
  const tmp = join(
    dir,
    `.${basename(path).slice(0, 200)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  let handle: FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    const h = handle;
    handle = undefined;
    await h.close();
    await fsp.rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable. Best effort: some platforms cannot open a directory. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows and some file systems refuse; the data itself is already synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Encodes `tensors` (in the order given) as safetensors and writes them atomically to `path`. */
export async function saveWeights(
  path: string,
  tensors: Map<string, Tensor> | Iterable<readonly [string, Tensor]>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    const code = errorCode(e);
    const why = code === 'ENOENT' ? `directory '${dirname(path)}' does not exist` : describe(e);
    throw weightsError(`cannot write: ${why}`, path, undefined, e);
  }
}

/**
 * Reads and decodes a safetensors file (errors name the path). With a graph, the tensors are
 * checked against it (and for NaN and Inf) and returned in graph.params order, missing BatchNorm
 * counters filled with 0.
 */
export async function loadWeights(path: string, graph?: Graph): Promise<Safetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(path);
  } catch (e) {
    const code = errorCode(e);
    const why =
      code === 'ENOENT'
        ? 'file does not exist'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : `cannot read: ${describe(e)}`;
    throw weightsError(why, path, undefined, e);
  }
  // The buffer is ours alone, so aligned tensors may view it instead of copying it again.
  const { tensors, metadata } = decodeSafetensors(bytes, { source: path, copy: false });
  if (graph === undefined) return { tensors, metadata };
  const checked = weightsForGraph(graph, tensors, { source: path });
  checkFinite(checked, path);
  return { tensors: checked, metadata };
}

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string'
    ? e.code
    : undefined;
}

function describe(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ');
}

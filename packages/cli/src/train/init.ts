/**
 * `--init FILE`: the starting weights of a run, from a model folder (fine-tuning a previous model),
 * a safetensors file or a PyTorch checkpoint (read by core's restricted reader, which never runs
 * the pickle's code), mapped onto the model by core's `transferWeights`. Prints what it did.
 */
import { open, stat } from 'node:fs/promises';
import {
  checkFinite,
  type Graph,
  loadModel,
  loadTorchCheckpoint,
  loadWeights,
  type Preprocessing,
  type Tensor,
  type TransferReport,
  transferWeights,
  WeightsError,
} from '@siamese/core';
import { UsageError } from '../errors.js';

export interface StartingWeights {
  readonly weights: Map<string, Tensor>;
  /** What was loaded, adapted, ignored and initialized: one line each. */
  readonly lines: readonly string[];
}

export interface InitFile {
  readonly path: string;
  readonly tensors: ReadonlyMap<string, Tensor>;
  /** A model folder's preprocessing, to compare with the run's. */
  readonly preprocessing?: Preprocessing;
  /** E.g. "a PyTorch checkpoint (state_dict under 'model')". */
  readonly what: string;
  readonly notes: readonly string[];
}

/**
 * Whether a file starts as safetensors does: a little-endian u64 header length that fits the file,
 * then '{'. (A zip starts 'PK', a pickle 0x80; neither is followed by that.)
 */
export async function looksLikeSafetensors(path: string, size: number): Promise<boolean> {
  const f = await open(path, 'r');
  try {
    const buf = Buffer.alloc(9);
    const { bytesRead } = await f.read(buf, 0, 9, 0);
    if (bytesRead < 9) return false;
    const n = buf.readBigUInt64LE(0);
    return n > 0n && n <= BigInt(size - 8) && buf[8] === 0x7b;
  } finally {
    await f.close();
  }
}

/**
 * Reads any of the accepted formats, before any data is read or written; every failure is a
 * one-line error naming the file.
 */
export async function readInitFile(path: string): Promise<InitFile> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`--init '${path}': no such file or folder`);
  if (info.isDirectory()) {
    const model = await loadModel(path);
    const p = model.preprocessing;
    const arch = typeof model.config.encoder === 'string' ? model.config.encoder : 'custom ResNet';
    return {
      path,
      tensors: model.weights,
      preprocessing: p,
      what: `a model folder (${arch}, ${p.channels}x${p.height}x${p.width}, combine ${model.config.combine ?? 'absdiff'})`,
      notes: [],
    };
  }
  // torch.save writes a zip (PK\3\4); before PyTorch 1.6 a bare pickle (0x80, protocol 2-5): the
  // reader names both. A safetensors file starts with its header's length, then '{'.
  if (!(await looksLikeSafetensors(path, info.size))) {
    const c = await loadTorchCheckpoint(path);
    checkFinite(c.tensors, path);
    const notes = [...c.converted].map(
      ([dtype, n]) => `${n} ${dtype} tensor${n === 1 ? '' : 's'} converted to float32`,
    );
    return {
      path,
      tensors: c.tensors,
      what: `a PyTorch checkpoint (${c.key === undefined ? 'a state_dict' : `the state_dict under '${c.key}'`})`,
      notes,
    };
  }
  const { tensors } = await loadWeights(path);
  checkFinite(tensors, path);
  return { path, tensors, what: 'a safetensors file', notes: [] };
}

/** The report as lines for the terminal. */
export function describeTransfer(path: string, what: string, r: TransferReport, seed: number): string[] {
  const lines = [
    `init: ${path}: ${what}, ${r.kind === 'encoder' ? 'an encoder' : 'a Siamese model'}; ${r.loaded} tensors loaded${r.stripped ? ` (prefix '${r.stripped}' removed)` : ''}`,
  ];
  if (r.adapted) {
    lines.push(
      r.adapted.to === 1
        ? `init: ${r.adapted.name} adapted from ${r.adapted.from} input channels to 1 by summing over them (a grey image is every channel at once)`
        : `init: ${r.adapted.name} adapted from ${r.adapted.from} input channels to ${r.adapted.to} by repeating them, scaled by ${r.adapted.from}/${r.adapted.to}`,
    );
  }
  if (r.ignored.length > 0) {
    const shown = r.ignored
      .slice(0, 4)
      .map((i) => `${i.name} (${i.why})`)
      .join(', ');
    lines.push(`init: ignored ${shown}${r.ignored.length > 4 ? `, and ${r.ignored.length - 4} more` : ''}`);
  }
  if (r.initialized.length > 0) {
    const groups = [...new Set(r.initialized.map((n) => n.split('.')[0]!))];
    lines.push(
      `init: new ${groups.join(' and ')} (${r.initialized.length} parameter${r.initialized.length === 1 ? '' : 's'}, seed ${seed})`,
    );
  }
  return lines;
}

/** A model folder's input normalization, when it differs from this run's. */
function normalizationWarning(from: Preprocessing | undefined, now: Preprocessing): string[] {
  if (!from) return [];
  const same = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) < 1e-6);
  if (same(from.mean, now.mean) && same(from.std, now.std)) return [];
  return [
    `warning: the --init model normalized its inputs with mean ${JSON.stringify(from.mean)}, std ${JSON.stringify(from.std)}; this run uses mean ${JSON.stringify(now.mean)}, std ${JSON.stringify(now.std)}`,
  ];
}

/** Starting weights for `graph` from a read file; one that does not fit is a UsageError naming it. */
export function startingWeights(
  file: InitFile,
  graph: Graph,
  seed: number,
  preprocessing?: Preprocessing,
): StartingWeights {
  const { path } = file;
  try {
    const { weights, report } = transferWeights(graph, file.tensors, { seed, source: path });
    return {
      weights,
      lines: [
        ...describeTransfer(path, file.what, report, seed),
        ...file.notes.map((n) => `init: ${n}`),
        ...(preprocessing ? normalizationWarning(file.preprocessing, preprocessing) : []),
      ],
    };
  } catch (e) {
    if (!(e instanceof WeightsError)) throw e;
    const detail = e.message.replace(/^weights: /, '').replace(`${path}: `, '');
    const arch = /holds a (\S+) encoder$/.exec(detail)?.[1];
    throw new UsageError(`--init ${path}: ${detail}${arch ? `; use --arch ${arch}` : ''}`);
  }
}

import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initWeights } from '../nn/init.js';
import { resnet, resnetPreset } from '../nn/resnet.js';
import { allocate, type Tensor } from '../tensor/tensor.js';
import { checkWeights, completeWeights, isBatchCounter, weightsForGraph } from './check.js';
import { WeightsError } from './errors.js';
import { loadWeights, saveWeights, writeFileAtomic } from './file.js';
import { encodeSafetensors } from './safetensors.js';

const graph = resnet(resnetPreset('resnet10_w8', { inChannels: 1 }), { height: 32, width: 32 });
const COUNTERS = graph.params.filter(isBatchCounter).map((p) => p.name);

function weights(): Map<string, Tensor> {
  return initWeights(graph, 0);
}

/** The WeightsError `fn` throws (sync or async); fails on success or on any other error type. */
async function weightsError(fn: () => unknown): Promise<WeightsError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsError);
    expect((e as Error).message).not.toMatch(/[\n\r]/);
    return e as WeightsError;
  }
  throw new Error('expected a WeightsError');
}

function expectSameWeights(actual: ReadonlyMap<string, Tensor>, expected: ReadonlyMap<string, Tensor>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, e] of expected) {
    const a = actual.get(name);
    expect(a?.dtype, name).toBe(e.dtype);
    expect(a?.shape, name).toEqual(e.shape);
    expect(a?.data, name).toEqual(e.data);
  }
}

let dir = '';
beforeEach(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'siamese-weights-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('checkWeights against a resnet10_w8 graph', () => {
  it('accepts initWeights and the graph has BatchNorm counters', () => {
    expect(COUNTERS).toContain('bn1.num_batches_tracked');
    expect(() => checkWeights(graph, weights())).not.toThrow();
  });

  it('names missing tensors, listing a few and counting all', async () => {
    const w = weights();
    w.delete('conv1.weight');
    expect((await weightsError(() => checkWeights(graph, w))).message).toBe(
      "weights: 1 missing tensor ('conv1.weight')",
    );
    for (const name of ['bn1.weight', 'bn1.bias', 'layer4.0.conv2.weight']) w.delete(name);
    const err = await weightsError(() => checkWeights(graph, w));
    expect(err.message).toBe("weights: 4 missing tensors ('conv1.weight', 'bn1.weight', 'bn1.bias', ...)");
    expect(err.tensor).toBe('conv1.weight');
  });

  it('names unexpected tensors', async () => {
    const w = weights();
    w.set('fc.weight', allocate('float32', [10, 64]));
    w.set('fc.bias', allocate('float32', [10]));
    expect((await weightsError(() => checkWeights(graph, w))).message).toBe(
      "weights: 2 unexpected tensors not in the graph ('fc.weight', 'fc.bias')",
    );
  });

  it('names a dtype mismatch', async () => {
    const w = weights();
    w.set('bn1.num_batches_tracked', allocate('int32', []));
    expect((await weightsError(() => checkWeights(graph, w))).message).toBe(
      "weights: 'bn1.num_batches_tracked' has dtype int32 but the graph expects int64",
    );
  });

  it('names a shape mismatch and counts the others', async () => {
    const w = weights();
    w.set('conv1.weight', allocate('float32', [8, 3, 7, 7]));
    expect((await weightsError(() => checkWeights(graph, w))).message).toBe(
      "weights: 'conv1.weight' has shape [8,3,7,7] but the graph expects [8,1,7,7]",
    );
    w.set('bn1.weight', allocate('float32', [16]));
    w.set('bn1.bias', allocate('float32', [16]));
    expect((await weightsError(() => checkWeights(graph, w))).message).toBe(
      "weights: 'conv1.weight' has shape [8,3,7,7] but the graph expects [8,1,7,7] (and 2 more mismatches)",
    );
  });

  it('reports every kind of problem in one line', async () => {
    const w = weights();
    w.delete('layer1.0.bn2.running_var');
    w.set('extra', allocate('uint8', [1]));
    w.set('bn1.running_mean', { dtype: 'float32', shape: [8], data: new Float32Array(3) });
    expect((await weightsError(() => checkWeights(graph, w))).message).toBe(
      "weights: 1 missing tensor ('layer1.0.bn2.running_var'); 1 unexpected tensor not in the graph ('extra'); " +
        "'bn1.running_mean' has 3 values but its shape [8] needs 8",
    );
  });
});

describe('num_batches_tracked counters', () => {
  function withoutCounters(): Map<string, Tensor> {
    const w = weights();
    for (const name of COUNTERS) w.delete(name);
    return w;
  }

  it('are required by a strict check, optional with allowMissingCounters', async () => {
    expect((await weightsError(() => checkWeights(graph, withoutCounters()))).message).toMatch(
      new RegExp(`^weights: ${COUNTERS.length} missing tensors \\('bn1\\.num_batches_tracked'`),
    );
    expect(() => checkWeights(graph, withoutCounters(), { allowMissingCounters: true })).not.toThrow();
  });

  it('are filled with int64 zeros by completeWeights and weightsForGraph', () => {
    const completed = completeWeights(graph, withoutCounters());
    for (const name of COUNTERS)
      expect(completed.get(name)).toEqual({ dtype: 'int64', shape: [], data: new BigInt64Array([0n]) });
    const ordered = weightsForGraph(graph, new Map([...withoutCounters()].reverse()));
    expect([...ordered.keys()]).toEqual(graph.params.map((p) => p.name));
    expectSameWeights(ordered, weights());
  });

  it('may be absent from a file', async () => {
    const path = join(dir, 'no-counters.safetensors');
    await saveWeights(path, withoutCounters());
    const { tensors } = await loadWeights(path, graph);
    expectSameWeights(tensors, weights());
  });
});

describe('saveWeights / loadWeights', () => {
  it('round-trips a graph through a file, in graph order, with metadata', async () => {
    const path = join(dir, 'weights.safetensors');
    const w = weights();
    w.set('bn1.num_batches_tracked', { dtype: 'int64', shape: [], data: new BigInt64Array([123n]) });
    await saveWeights(path, [...w].reverse(), { arch: 'resnet10_w8' });
    const loaded = await loadWeights(path, graph);
    expect(loaded.metadata).toEqual({ arch: 'resnet10_w8' });
    expectSameWeights(loaded.tensors, w);
    // Without a graph: file order, unchecked.
    const raw = await loadWeights(path);
    expect([...raw.tensors.keys()]).toEqual([...w.keys()].reverse());
    expect(await fsp.readdir(dir)).toEqual(['weights.safetensors']);
  });

  it('names the file in decode and check errors', async () => {
    const path = join(dir, 'bad.safetensors');
    await fsp.writeFile(path, new Uint8Array(3));
    expect((await weightsError(() => loadWeights(path))).message).toBe(
      `weights: ${path}: file is 3 bytes, too short for the 8-byte header length`,
    );
    const w = weights();
    w.set('conv1.weight', allocate('float32', [8, 3, 7, 7]));
    await saveWeights(path, w);
    const err = await weightsError(() => loadWeights(path, graph));
    expect(err.message).toBe(
      `weights: ${path}: 'conv1.weight' has shape [8,3,7,7] but the graph expects [8,1,7,7]`,
    );
    expect(err.source).toBe(path);
  });

  it('names a missing file or a directory', async () => {
    const path = join(dir, 'nope.safetensors');
    const err = await weightsError(() => loadWeights(path, graph));
    expect(err.message).toBe(`weights: ${path}: file does not exist`);
    expect((await weightsError(() => loadWeights(dir))).message).toBe(
      `weights: ${dir}: is a directory, not a file`,
    );
  });
});

describe('atomic writes', () => {
  const oldBytes = new Uint8Array([1, 2, 3, 4]);

  async function target(): Promise<string> {
    const path = join(dir, 'w.safetensors');
    await fsp.writeFile(path, oldBytes);
    return path;
  }

  it('replace the file and leave no temp file behind', async () => {
    const path = await target();
    await writeFileAtomic(path, new Uint8Array([9, 9]));
    expect(new Uint8Array(await fsp.readFile(path))).toEqual(new Uint8Array([9, 9]));
    expect(await fsp.readdir(dir)).toEqual(['w.safetensors']);
  });

  it('fail cleanly when the directory does not exist', async () => {
    const path = join(dir, 'missing', 'w.safetensors');
    const err = await weightsError(() => saveWeights(path, weights()));
    expect(err.message).toBe(
      `weights: ${path}: cannot write: directory '${join(dir, 'missing')}' does not exist`,
    );
    expect(err.cause).toBeInstanceOf(Error);
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it('keep the old file when the rename fails', async () => {
    const path = await target();
    vi.spyOn(fsp, 'rename').mockRejectedValue(
      Object.assign(new Error('EXDEV: simulated'), { code: 'EXDEV' }),
    );
    const err = await weightsError(() => saveWeights(path, weights()));
    expect(err.message).toBe(`weights: ${path}: cannot write: EXDEV: simulated`);
    expect(new Uint8Array(await fsp.readFile(path))).toEqual(oldBytes);
    expect(await fsp.readdir(dir)).toEqual(['w.safetensors']);
  });

  it('keep the old file when writing stops halfway', async () => {
    const path = await target();
    const probe = await fsp.open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    await fsp.rm(join(dir, 'probe'));
    let partial = 0;
    // Writes the first half for real, then fails as a full disk would.
    vi.spyOn(proto, 'writeFile').mockImplementation(async function (this: FileHandle, data) {
      const bytes = data as Uint8Array;
      partial = Math.floor(bytes.length / 2);
      await this.write(bytes, 0, partial, 0);
      throw Object.assign(new Error('ENOSPC: no space left on device (simulated)'), { code: 'ENOSPC' });
    });
    await expect(writeFileAtomic(path, encodeSafetensors(weights()))).rejects.toThrow(/ENOSPC/);
    expect(partial).toBeGreaterThan(0);
    expect(new Uint8Array(await fsp.readFile(path))).toEqual(oldBytes);
    expect(await fsp.readdir(dir)).toEqual(['w.safetensors']);
  });

  it('never write an invalid file: encoding errors come before any I/O', async () => {
    const path = await target();
    const bad = new Map<string, Tensor>([['a', { dtype: 'float32', shape: [4], data: new Float32Array(1) }]]);
    await weightsError(() => saveWeights(path, bad));
    expect(new Uint8Array(await fsp.readFile(path))).toEqual(oldBytes);
  });
});

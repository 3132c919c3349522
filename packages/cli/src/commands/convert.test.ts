import { join, resolve } from 'node:path';
import { loadTorchCheckpoint, loadWeights } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siameseCli, tempDir } from '../test/cli.js';

/** core's torch.save fixtures (tools/reference/torch_checkpoints.py). */
const TORCH = resolve(import.meta.dirname, '../../../core/src/weights/__fixtures__/torch');
let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await tempDir('siamese-convert-');
});
afterAll(() => dir.remove());

describe('siamese convert', () => {
  it('writes the state_dict of a wrapped checkpoint as safetensors, names and values unchanged', async () => {
    const out = join(dir.path, 'model.safetensors');
    const r = await siameseCli(['convert', join(TORCH, 'wrapped-model.pt'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^converted the state_dict under 'model', \d+ tensors \([\d,]+ values\) to .*model\.safetensors\n$/,
    );
    const [torch, written] = [
      await loadTorchCheckpoint(join(TORCH, 'wrapped-model.pt')),
      await loadWeights(out),
    ];
    expect([...written.tensors.keys()]).toEqual([...torch.tensors.keys()]);
    for (const [k, t] of torch.tensors) expect(written.tensors.get(k)?.data, k).toEqual(t.data);
    expect(written.metadata).toEqual({ format: 'pt', source: 'wrapped-model.pt' });
  });

  it('says how many half-precision tensors became float32', async () => {
    const r = await siameseCli([
      'convert',
      join(TORCH, 'dtypes.pt'),
      '--out',
      join(dir.path, 'd.safetensors'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/float16 converted to float32/);
  });

  it('refuses the legacy format, a missing --out and converting onto itself, in one line each', async () => {
    const legacy = await siameseCli([
      'convert',
      join(TORCH, 'legacy.pt'),
      '--out',
      join(dir.path, 'l.safetensors'),
    ]);
    expect(legacy.code).toBe(2);
    expect(legacy.errLines).toHaveLength(1);
    expect(legacy.errLines[0]).toMatch(/legacy format.*torch\.save/);
    const noOut = await siameseCli(['convert', join(TORCH, 'tiny.pt')]);
    expect(noOut.errLines).toEqual(['siamese convert: --out is required: the safetensors file to write']);
    const self = await siameseCli(['convert', join(TORCH, 'tiny.pt'), '--out', join(TORCH, 'tiny.pt')]);
    expect(self.code).toBe(2);
    expect(self.errLines[0]).toContain('is the input file itself');
  });
});

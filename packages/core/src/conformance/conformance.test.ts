import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inferNode } from '../ir/infer.js';
import type { TensorType } from '../ir/types.js';
import { OPS, untypedSpec } from '../ops/table.js';
import {
  CONFORMANCE_FAMILIES,
  type ConformanceTensor,
  caseId,
  closeEnough,
  loadConformanceCases,
  loadConformanceFile,
} from './index.js';

const cases = await loadConformanceCases();

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function wellFormed(t: ConformanceTensor, what: string): void {
  expect(
    t.shape.every((d) => Number.isInteger(d) && d >= 1),
    `${what} shape [${t.shape.join(',')}]`,
  ).toBe(true);
  expect(t.data.length, `${what} has ${t.data.length} values for shape [${t.shape.join(',')}]`).toBe(
    size(t.shape),
  );
  expect(t.data.every(Number.isFinite), `${what} has non-finite values`).toBe(true);
}

describe('conformance files', () => {
  it('are exactly the listed families, each from the generator', async () => {
    const dir = new URL('../../conformance/', import.meta.url);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(CONFORMANCE_FAMILIES.map((f) => `${f}.json`).sort());
    for (const family of CONFORMANCE_FAMILIES) {
      const file = await loadConformanceFile(family);
      expect(file.generator).toBe('tools/reference/conformance.py');
      expect(file.torch).toMatch(/^1\.13\./);
      expect(file.cases.length).toBeGreaterThan(0);
    }
  });

  it('cover every op in the table', () => {
    const covered = new Set(cases.map((c) => c.op));
    expect(Object.keys(OPS).filter((op) => !covered.has(op as keyof typeof OPS))).toEqual([]);
  });

  it('name each case uniquely per op', () => {
    const ids = cases.map(caseId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});

describe.each(cases.map((c) => [caseId(c), c] as const))('%s', (_id, c) => {
  const spec = untypedSpec(c.op);

  it('writes out every attribute, as attrs() returns them', () => {
    expect(spec.attrs(c.attrs)).toEqual(c.attrs);
  });

  it('gets its output shapes from the shape rule', () => {
    const types = new Map<string, TensorType>();
    const names = c.inputs.map((t, i) => {
      if (t === null) return '';
      types.set(`in${i}`, { dtype: 'float32', shape: t.shape });
      return `in${i}`;
    });
    const { outputs } = inferNode({ name: caseId(c), op: c.op, inputs: names, attrs: c.attrs }, (v) =>
      types.get(v),
    );
    expect(outputs).toEqual(c.outputs.map((o) => ({ dtype: 'float32', shape: o.shape })));
  });

  it('has well-formed tensors and a positive tolerance', () => {
    for (const [i, t] of c.inputs.entries()) if (t) wellFormed(t, `input ${i}`);
    for (const [i, t] of c.outputs.entries()) wellFormed(t, `output ${i}`);
    expect(c.tolerance.atol).toBeGreaterThan(0);
    expect(c.tolerance.rtol).toBeGreaterThan(0);
  });

  it('uses train mode only where it is deterministic, with buffers exactly for batchNorm training', () => {
    const train = c.mode === 'train';
    expect(['eval', 'train']).toContain(c.mode);
    if (train) expect(c.op === 'batchNorm' || (c.op === 'dropout' && c.attrs.p === 0)).toBe(true);
    expect(c.buffers !== undefined).toBe(train && c.op === 'batchNorm');
    if (c.buffers) {
      // Same shapes as the runningMean / runningVar inputs they update.
      expect(c.buffers.runningMean.shape).toEqual(c.inputs[3]?.shape);
      expect(c.buffers.runningVar.shape).toEqual(c.inputs[4]?.shape);
      wellFormed(c.buffers.runningMean, 'runningMean');
      wellFormed(c.buffers.runningVar, 'runningVar');
    }
  });
});

describe('closeEnough', () => {
  const tol = { atol: 1e-5, rtol: 1e-4 };
  const t = (data: number[], shape = [data.length]): ConformanceTensor => ({ shape, data });

  it('accepts exact values and errors within atol + rtol * |expected|', () => {
    expect(closeEnough([1, 2, 3], t([1, 2, 3]), tol).ok).toBe(true);
    expect(closeEnough(new Float32Array([0.1, -0.2]), t([0.1, -0.2]), tol).ok).toBe(true);
    expect(closeEnough([1000.09], t([1000]), tol).ok).toBe(true); // 0.09 <= 1e-5 + 0.1
    expect(closeEnough([9e-6], t([0]), tol).ok).toBe(true);
  });

  it('rejects errors past the allowance and reports the worst element with its position', () => {
    const r = closeEnough([1, 2.5, 3, 4.001], t([1, 2, 3, 4], [2, 2]), tol);
    expect(r.ok).toBe(false);
    expect(r.worst).toMatchObject({ index: 1, at: [0, 1], actual: 2.5, expected: 2 });
    expect(r.worst?.error).toBeCloseTo(0.5);
    expect(r.message).toMatch(/outside tolerance.*\[0,1\]/);
    expect(closeEnough([2e-5], t([0]), tol).ok).toBe(false);
  });

  it('never passes NaN and needs the same number of values', () => {
    expect(closeEnough([Number.NaN], t([0]), tol).ok).toBe(false);
    expect(closeEnough([1, Number.NaN], t([1, 1]), tol).worst?.index).toBe(1);
    const r = closeEnough([1, 2], t([1, 2, 3]), tol);
    expect(r.ok).toBe(false);
    expect(r.worst).toBeUndefined();
    expect(r.message).toMatch(/got 2 values, expected 3/);
  });

  it('handles scalars and zero tolerance', () => {
    expect(closeEnough([0.5], t([0.5], []), { atol: 0, rtol: 0 }).ok).toBe(true);
    expect(closeEnough([0, 1e-30], t([0, 0]), { atol: 0, rtol: 0 }).worst?.index).toBe(1);
  });

  it('passes every case against its own expected outputs', () => {
    for (const c of cases) {
      for (const o of c.outputs)
        expect(closeEnough(Float32Array.from(o.data), o, c.tolerance).ok, caseId(c)).toBe(true);
    }
  });
});

/**
 * Every eval-mode core conformance case, exported as a one-node graph through the lowering table and
 * run in onnxruntime (CPU). Train-mode cases (batch statistics, dropout's random mask) belong to the
 * training backends: an inference exporter has no train mode to lower them to.
 */
import { type AttrsInput, GraphBuilder, OPS, type OpName, type Tensor, type Value } from '@siamese/core';
import { type ConformanceCase, caseId, closeEnough, loadConformanceCases } from '@siamese/core/conformance';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from './model.js';

const cases = await loadConformanceCases();
const evalCases = cases.filter((c) => c.mode === 'eval');
const trainCases = cases.filter((c) => c.mode === 'train');

/** Inputs that are module state in a real model: they become initializers in the `weights` variant. */
const WEIGHT_INPUTS = new Set(['weight', 'bias', 'runningMean', 'runningVar']);

type Variant = 'weights' | 'inputs';

function oneNodeGraph(c: ConformanceCase, variant: Variant) {
  const b = new GraphBuilder(`conformance_${c.op}`);
  const spec = OPS[c.op];
  const feeds: Record<string, OrtTensor> = {};
  const weights = new Map<string, Tensor>();
  const values: (Value | undefined)[] = c.inputs.map((t, i) => {
    if (t === null) return undefined;
    const slot = spec.inputs[Math.min(i, spec.inputs.length - 1)]!;
    const name = `${slot.name}${slot.variadic ? i : ''}`;
    const data = Float32Array.from(t.data);
    if (variant === 'weights' && WEIGHT_INPUTS.has(slot.name)) {
      weights.set(name, { dtype: 'float32', shape: t.shape, data });
      return b.param(name, t.shape, { kind: 'zeros' });
    }
    feeds[name] = new OrtTensor('float32', data, t.shape);
    return b.input(name, 'float32', t.shape);
  });
  const outs = b.opMulti(c.op as OpName, values, c.attrs as AttrsInput<OpName>, 'node');
  outs.forEach((v, i) => {
    b.output(`y${i}`, v);
  });
  return { graph: b.build(), feeds, weights };
}

async function run(c: ConformanceCase, variant: Variant): Promise<void> {
  const { graph, feeds, weights } = oneNodeGraph(c, variant);
  const session = await InferenceSession.create(exportOnnx(graph, weights), { intraOpNumThreads: 1 });
  try {
    const result = await session.run(feeds);
    // Every output: batchNormTrain's statistics and running buffers, batchNormGrad's three gradients.
    c.outputs.forEach((want, i) => {
      const out = result[`y${i}`]!;
      expect(out.dims).toEqual(want.shape);
      const cmp = closeEnough(out.data as Float32Array, want, c.tolerance);
      expect(cmp.ok, `${caseId(c)} output ${i} (${variant}): ${cmp.message}`).toBe(true);
    });
  } finally {
    await session.release();
  }
}

describe('conformance in onnxruntime (eval mode)', () => {
  it(`covers every case: ${evalCases.length} eval, ${trainCases.length} train-mode cases left to training backends`, () => {
    expect(evalCases.length + trainCases.length).toBe(cases.length);
    expect(trainCases.every((c) => c.op === 'batchNorm' || c.op === 'dropout')).toBe(true);
    // Every op has at least one eval case, so no lowering goes untested.
    expect(new Set(evalCases.map((c) => c.op))).toEqual(new Set(Object.keys(OPS)));
  });

  it.each(evalCases.map((c) => [caseId(c), c] as const))('%s', async (_id, c) => {
    await run(c, 'weights');
    await run(c, 'inputs');
  });
});

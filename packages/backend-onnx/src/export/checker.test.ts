/**
 * The official checker (Debian's python3-onnx 1.12, `check_model(full_check=True)`: schema, IR version,
 * opset and strict shape inference) on every cut, folded and not, on the training graphs' losses and on
 * every eval conformance case.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttrsInput,
  GraphBuilder,
  initWeights,
  type OpName,
  siamese,
  siameseTraining,
} from '@siamese/core';
import { caseId, loadConformanceCases } from '@siamese/core/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKER_SKIPPED, checkModels, hasOnnx } from './__fixtures__/onnx-checker.js';
import { exportSiameseCut, SIAMESE_CUTS } from './cuts.js';
import { exportOnnx } from './model.js';

const cases = await loadConformanceCases();

function models(): Map<string, Uint8Array> {
  const input = { channels: 1, height: 32, width: 32 };
  const out = new Map<string, Uint8Array>();
  for (const combine of ['absdiff', 'cosine'] as const) {
    const graph = siamese({ encoder: 'resnet10_w8', input, combine, head: { hidden: [16] } });
    const weights = initWeights(graph, 1);
    for (const cut of SIAMESE_CUTS) {
      out.set(`${combine}-${cut}`, exportSiameseCut(graph, weights, cut));
      out.set(`${combine}-${cut}-unfolded`, exportSiameseCut(graph, weights, cut, { foldBatchNorm: false }));
    }
    out.set(`${combine}-full`, exportOnnx(graph, weights));
  }
  for (const loss of [
    { kind: 'bce' },
    { kind: 'contrastive', margin: 1 },
    { kind: 'triplet', margin: 1 },
  ] as const) {
    const graph = siameseTraining({ encoder: 'resnet10_w8', input, normalizeEmbeddings: true }, loss);
    out.set(`training-${loss.kind}`, exportOnnx(graph, initWeights(graph, 2)));
  }
  // Each eval conformance case as a one-node model: strict shape inference must agree with core's shapes.
  for (const c of cases.filter((k) => k.mode === 'eval')) {
    const b = new GraphBuilder(c.op);
    const xs = c.inputs.map((t, i) => (t ? b.input(`in${i}`, 'float32', t.shape) : undefined));
    b.output('y', b.op(c.op as OpName, xs, c.attrs as AttrsInput<OpName>));
    out.set(`conformance-${caseId(c).replace('/', '-')}`, exportOnnx(b.build(), new Map()));
  }
  return out;
}

describe.skipIf(!hasOnnx)(hasOnnx ? 'onnx.checker.check_model(full_check=True)' : CHECKER_SKIPPED, () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('accepts every cut, folded and unfolded, the training graphs and every eval conformance case', async () => {
    dir = await mkdtemp(join(tmpdir(), 'siamese-onnx-check-'));
    const all = models();
    const verdicts = await checkModels(all, dir);
    expect(verdicts).toEqual(Object.fromEntries([...all.keys()].map((n) => [n, 'ok'])));
  });
});

/**
 * The official checker (Debian's python3-onnx 1.12, `check_model(full_check=True)`: schema, IR version,
 * opset and strict shape inference) on every cut, folded and not, on the training graphs' losses and on
 * every eval conformance case.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { exportSiameseCut, SIAMESE_CUTS } from './cuts.js';
import { exportOnnx } from './model.js';

const PYTHON = '/usr/bin/python3';
const cases = await loadConformanceCases();
const hasOnnx = spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

/** Checks every file in one interpreter (importing onnx takes most of a second); prints `name: ok|error`. */
const CHECK = `
import sys, onnx
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print(path, 'ok', sep='\\t')
    except Exception as e:
        print(path, ' '.join(str(e).split()), sep='\\t')
`;

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

describe.skipIf(!hasOnnx)(
  hasOnnx
    ? 'onnx.checker.check_model(full_check=True)'
    : `onnx.checker SKIPPED: '${PYTHON} -c "import onnx"' fails (install Debian's python3-onnx to run it)`,
  () => {
    let dir = '';
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('accepts every cut, folded and unfolded, the training graphs and every eval conformance case', async () => {
      dir = await mkdtemp(join(tmpdir(), 'siamese-onnx-check-'));
      const paths = new Map<string, string>();
      for (const [name, bytes] of models()) {
        const path = join(dir, `${name}.onnx`);
        await writeFile(path, bytes);
        paths.set(path, name);
      }
      const r = spawnSync(PYTHON, ['-c', CHECK, ...paths.keys()], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const verdicts = Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((line) => line.split('\t') as [string, string])
          .map(([path, verdict]) => [paths.get(path), verdict]),
      );
      expect(verdicts).toEqual(Object.fromEntries([...paths.values()].map((n) => [n, 'ok'])));
    });
  },
);

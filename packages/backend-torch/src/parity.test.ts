/**
 * The generated PyTorch module computes what onnxruntime computes from the same IR and weights:
 * logits, probabilities and embeddings within 1e-5 relative (max |difference| / max(max |output|, 1)),
 * for ResNet-18
 * with every combine mode and ResNet-50; and its state_dict's names and shapes are the IR's.
 * All packages run in one Python process (importing torch costs seconds on a small machine).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxSiamese } from '@siamese/backend-onnx';
import {
  COMBINE_MODES,
  type CombineMode,
  defaultPreprocessing,
  type SiameseConfig,
  siamese,
  siameseTraining,
} from '@siamese/core';
import { afterAll, describe, expect, it } from 'vitest';
import { pytorchPackage } from './package.js';
import {
  fixture,
  HAS_TORCH,
  NO_TORCH_REASON,
  python,
  randomImages,
  randomWeights,
  readTensors,
  relativeError,
  writeFiles,
  writeTensors,
} from './test-util.js';

const CASES: { arch: string; combine: CombineMode }[] = [
  ...COMBINE_MODES.map((combine) => ({ arch: 'resnet18', combine })),
  { arch: 'resnet50', combine: 'absdiff' },
];
const TOLERANCE = 1e-5;
const root = mkdtempSync(join(tmpdir(), 'siamese-torch-parity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!HAS_TORCH)(`generated module vs onnxruntime (${NO_TORCH_REASON.slice(9)} otherwise)`, () => {
  const jobs = CASES.map(({ arch, combine }, i) => {
    const config: SiameseConfig = {
      encoder: arch,
      input: { channels: 1, height: 32, width: 32 },
      combine,
      head: { hidden: combine === 'euclidean' || combine === 'cosine' ? [] : [16] },
    };
    const inference = siamese(config);
    const dir = join(root, `${arch}-${combine}`);
    const weights = randomWeights(inference, 11 + i);
    const files = pytorchPackage({
      inference,
      training: siameseTraining(config, { kind: 'bce' }),
      preprocessing: defaultPreprocessing(config.input),
      config: { model: { arch, combine } },
      weights,
      source: `--arch ${arch}`,
    });
    writeFiles(dir, files);
    const inputs = new Map([
      ['x1', randomImages(3, 1, 32, 32, 100 + i)],
      // Unlike x1 (|f1 - f2| of near-equal embeddings would measure cancellation, not the module).
      ['x2', randomImages(3, 1, 32, 32, 200 + i, 1.5)],
    ]);
    writeTensors(join(dir, 'inputs.safetensors'), inputs);
    return { arch, combine, config, inference, weights, inputs, dir };
  });

  it('runs every package once in PyTorch', () => {
    const list = jobs.map((j) => ({
      package: j.dir,
      weights: join(j.dir, 'weights.safetensors'),
      inputs: join(j.dir, 'inputs.safetensors'),
      outputs: join(j.dir, 'outputs.safetensors'),
      state: join(j.dir, 'state.json'),
    }));
    writeFileSync(join(root, 'jobs.json'), JSON.stringify(list));
    python([fixture('forward.py'), join(root, 'jobs.json')]);
  });

  it.each(jobs.map((j) => [`${j.arch} ${j.combine}`, j] as const))(
    '%s: state_dict names are the IR parameters; outputs equal onnxruntime within 1e-5 relative',
    async (_, j) => {
      const state = JSON.parse(readFileSync(join(j.dir, 'state.json'), 'utf8')) as Record<string, number[]>;
      expect(Object.keys(state).sort()).toEqual(j.inference.params.map((p) => p.name).sort());
      for (const p of j.inference.params) expect(state[p.name], p.name).toEqual(p.shape);

      const torch = readTensors(readFileSync(join(j.dir, 'outputs.safetensors')));
      const onnx = await OnnxSiamese.fromArtifact(
        {
          graph: j.inference,
          config: j.config,
          preprocessing: defaultPreprocessing(j.config.input),
          weights: j.weights,
        },
        { device: 'cpu' },
      );
      try {
        const scores = await onnx.score(j.inputs.get('x1')!, j.inputs.get('x2')!);
        const embedding = await onnx.embed(j.inputs.get('x1')!);
        const errors = {
          logit: relativeError(torch.get('logit')!.data as Float32Array, scores.logit),
          probability: relativeError(torch.get('probability')!.data as Float32Array, scores.probability),
          embedding: relativeError(torch.get('embeddingA')!.data as Float32Array, embedding.data),
        };
        const logits = Math.max(...Array.from(scores.logit, Math.abs));
        console.log(
          `parity ${j.arch} ${j.combine}: ${JSON.stringify(errors)} (max |logit| ${logits.toFixed(3)})`,
        );
        for (const [k, e] of Object.entries(errors)) expect(e, k).toBeLessThan(TOLERANCE);
      } finally {
        await onnx.dispose();
      }
    },
  );
});

/**
 * The two training backends agree: from the same weights and batches (core's siamese-tiny parity
 * fixture, PyTorch's weights, with the default head's dropout 0.5 switched on), Adam steps on tfjs
 * (wasm) and onnxruntime (cpu) give the same losses, the same weights, and models that score pairs
 * the same after export. Both lower core's one training-step graph and feed core's dropout masks.
 */

import { createOnnxBackend, OnnxSiamese } from '@siamese/backend-onnx';
import { createTfjsBackend } from '@siamese/backend-tfjs';
import { defaultPreprocessing, freeze, Random, siamese, siameseTraining } from '@siamese/core';
import { loadParityFixture } from '@siamese/core/conformance';
import { describe, expect, it } from 'vitest';

const f = await loadParityFixture('siamese-tiny');
const config = { ...f.config, head: { ...f.config.head, dropout: 0.5 } };
const training = siameseTraining(config, { kind: 'bce' });
const batch = { inputs: { ...f.inputs }, size: f.inputs.labels.shape[0] as number };

describe('tfjs and onnxruntime training agree', () => {
  it('on losses, weights and exported scores over five Adam steps with dropout on', async () => {
    const optimizer = { kind: 'adam' as const };
    const o = { graph: training, weights: f.weights, seed: 7, optimizer };
    const tfjs = await createTfjsBackend({ ...o, device: 'wasm' });
    const onnx = await createOnnxBackend({ ...o, device: 'cpu' });
    const noDropout = await createOnnxBackend({
      ...o,
      graph: siameseTraining(f.config, { kind: 'bce' }),
      device: 'cpu',
    });
    try {
      // Dropout really acts: the same step without it gives another loss.
      const plain = await noDropout.step(batch, 1e-2);
      for (let i = 0; i < 5; i++) {
        const [a, b] = [await tfjs.step(batch, 1e-2), await onnx.step(batch, 1e-2)];
        if (i === 0) expect(Math.abs(b.loss - plain.loss)).toBeGreaterThan(1e-3);
        expect(Math.abs(a.loss - b.loss), `step ${i + 1}: tfjs ${a.loss} vs onnx ${b.loss}`).toBeLessThan(
          1e-3,
        );
      }
      const [wt, wo] = [await tfjs.readWeights(), await onnx.readWeights()];
      for (const [name, t] of wt) {
        const o = wo.get(name)!;
        if (t.dtype === 'int64') {
          expect(o.data[0], name).toBe(t.data[0]);
          continue;
        }
        let worst = 0;
        t.data.forEach((v, i) => {
          worst = Math.max(worst, Math.abs((v as number) - (o.data[i] as number)));
        });
        expect(worst, name).toBeLessThan(2e-3);
      }
      // Both trained models, exported, score the fixture's pairs alike.
      const scores = async (weights: typeof wt) => {
        const m = await OnnxSiamese.fromArtifact({
          graph: siamese(config),
          config,
          preprocessing: defaultPreprocessing(config.input),
          weights,
        });
        const { probability } = await m.score(f.inputs.x1, f.inputs.x2);
        await m.dispose();
        return probability;
      };
      const [st, so] = [await scores(wt), await scores(wo)];
      st.forEach((v, i) => {
        expect(Math.abs(v - so[i]!)).toBeLessThan(1e-3);
      });
      // The onnx backend's own eval-mode scores are those of its export.
      const own = await onnx.evaluate(batch);
      own.scores.forEach((v, i) => {
        expect(Math.abs(v - so[i]!)).toBeLessThan(1e-5);
      });
    } finally {
      tfjs.dispose();
      await onnx.dispose();
      await noDropout.dispose();
    }
  });
});

describe('identity losses train the same on both backends', () => {
  it.each(['cosface', 'arcface', 'normface'] as const)(
    '%s: losses and validation scores agree',
    async (kind) => {
      const config = { encoder: 'resnet10_w8', input: { channels: 1, height: 16, width: 16 } } as const;
      const graph = siameseTraining(config, { kind, classes: 3 });
      const r = new Random(5);
      const images = (n: number) => ({
        dtype: 'float32' as const,
        shape: [n, 1, 16, 16],
        data: Float32Array.from({ length: n * 256 }, () => r.normal()),
      });
      const step = {
        inputs: {
          images: images(6),
          labels: { dtype: 'float32' as const, shape: [6], data: Float32Array.of(0, 0, 1, 1, 2, 2) },
        },
        size: 6,
      };
      const pairs = {
        inputs: {
          x1: images(4),
          x2: images(4),
          labels: { dtype: 'float32' as const, shape: [4, 1], data: Float32Array.of(1, 0, 1, 0) },
        },
        size: 4,
      };
      const o = { graph, seed: 3, optimizer: { kind: 'adam' as const } };
      const tfjs = await createTfjsBackend({ ...o, device: 'wasm' });
      const onnx = await createOnnxBackend({ ...o, device: 'cpu' });
      try {
        for (let i = 0; i < 3; i++) {
          const [a, b] = [await tfjs.step(step, 1e-2), await onnx.step(step, 1e-2)];
          expect(Math.abs(a.loss - b.loss), `step ${i + 1}: tfjs ${a.loss} vs onnx ${b.loss}`).toBeLessThan(
            1e-3,
          );
        }
        const [st, so] = [await tfjs.evaluate(pairs), await onnx.evaluate(pairs)];
        so.scores.forEach((v, i) => {
          expect(v).toBeGreaterThanOrEqual(-1);
          expect(v).toBeLessThanOrEqual(1);
          expect(Math.abs(v - st.scores[i]!)).toBeLessThan(1e-3);
        });
      } finally {
        tfjs.dispose();
        await onnx.dispose();
      }
    },
  );
});

describe('freezing and parameter groups train the same on both backends', () => {
  it('a frozen encoder, then an encoder at 0.1 x lr: losses and weights agree', async () => {
    const plain = siameseTraining(f.config, { kind: 'bce' });
    const stages = [
      { graph: freeze(plain, 'encoder.') },
      { graph: plain, paramGroups: [{ prefix: 'encoder.', lrFactor: 0.1 }] },
    ];
    let weights = f.weights;
    for (const [k, stage] of stages.entries()) {
      const o = { ...stage, weights, seed: 7, optimizer: { kind: 'adam' as const } };
      const tfjs = await createTfjsBackend({ ...o, device: 'wasm' });
      const onnx = await createOnnxBackend({ ...o, device: 'cpu' });
      try {
        for (let i = 0; i < 3; i++) {
          const [a, b] = [await tfjs.step(batch, 1e-2), await onnx.step(batch, 1e-2)];
          expect(Math.abs(a.loss - b.loss), `stage ${k + 1} step ${i + 1}`).toBeLessThan(1e-3);
        }
        const [wt, wo] = [await tfjs.readWeights(), await onnx.readWeights()];
        for (const [name, t] of wt) {
          if (t.dtype === 'int64') continue;
          const other = wo.get(name)!;
          let worst = 0;
          t.data.forEach((v, i) => {
            worst = Math.max(worst, Math.abs((v as number) - (other.data[i] as number)));
          });
          expect(worst, `stage ${k + 1}: ${name}`).toBeLessThan(2e-3);
          // Frozen: tfjs leaves the encoder and its statistics exactly as they were.
          if (k === 0 && name.startsWith('encoder.')) expect(t.data, name).toEqual(weights.get(name)!.data);
        }
        weights = wo;
      } finally {
        tfjs.dispose();
        await onnx.dispose();
      }
    }
  });
});

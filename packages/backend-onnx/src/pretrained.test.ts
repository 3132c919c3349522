/**
 * PyTorch checkpoints in, PyTorch's embeddings out: torchvision resnet18 and resnet50 state_dicts
 * written by torch.save (random weights; tools/reference/torch_checkpoints.py), read by core's
 * restricted .pth reader, mapped onto a Siamese encoder by `transferWeights` and run here give the
 * embeddings torchvision computed for the same input.
 */

import { readFileSync } from 'node:fs';
import {
  decodeSafetensors,
  defaultPreprocessing,
  loadTorchCheckpoint,
  type SiameseConfig,
  siamese,
  type Tensor,
  transferWeights,
} from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { OnnxSiamese } from './model.js';

const fixtures = new URL('../../core/src/weights/__fixtures__/torch/', import.meta.url);
const input = decodeSafetensors(
  new Uint8Array(readFileSync(new URL('resnet-input.safetensors', fixtures))),
).tensors.get('input') as Tensor<'float32'>;

describe.each(['resnet18', 'resnet50'] as const)('%s from torch.save', (arch) => {
  it('gives torchvision embeddings within 1e-5', async () => {
    const expected = JSON.parse(readFileSync(new URL(`${arch}-embeddings.json`, fixtures), 'utf8')) as {
      shape: [number, number];
      embeddings: number[];
    };
    // The fixtures are views of small pools that expand far beyond their bytes (resnet50: 1 MB to
    // 25.6M values), past the reader's default bound for what a file may expand to; a real
    // checkpoint stores every value, so it never comes near it.
    const checkpoint = await loadTorchCheckpoint(new URL(`${arch}.pt`, fixtures).pathname, {
      maxExpansion: 2 ** 25,
    });
    const config: SiameseConfig = { encoder: arch, input: { channels: 3, height: 64, width: 64 } };
    const graph = siamese(config);
    const { weights, report } = transferWeights(graph, checkpoint.tensors, { seed: 0 });
    expect(report.kind).toBe('encoder');
    expect(report.ignored.map((i) => i.name)).toEqual(['fc.weight', 'fc.bias']);
    const model = await OnnxSiamese.fromArtifact(
      { graph, config, preprocessing: defaultPreprocessing(config.input), weights },
      { device: 'cpu' },
    );
    try {
      const got = await model.embed(input);
      expect(got.shape).toEqual(expected.shape);
      let worst = 0;
      got.data.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - expected.embeddings[i]!));
      });
      // Embedding values are about 1-3; measured: 1.9e-6 (resnet18), 4.3e-6 (resnet50).
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await model.dispose();
    }
  }, 60_000);
});

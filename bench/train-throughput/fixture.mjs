// The model and batch every side of a training benchmark starts from: a Siamese model's initial
// weights (seed 7) and one batch of random images with alternating labels (seed 11), as files.
import { join } from 'node:path';
import { initWeights, Random, saveWeights, siameseTraining } from '../../packages/core/dist/index.js';

export async function writeTrainFixture(dir, { arch, size, batch: n, channels = 1 }) {
  const config = { encoder: arch, input: { channels, height: size, width: size } };
  const weights = join(dir, 'w.safetensors');
  const inputs = join(dir, 'in.safetensors');
  await saveWeights(weights, initWeights(siameseTraining(config, { kind: 'bce' }), 7));
  const r = new Random(11);
  const image = () => Float32Array.from({ length: n * channels * size * size }, () => r.normal());
  const shape = [n, channels, size, size];
  await saveWeights(inputs, [
    ['x1', { dtype: 'float32', shape, data: image() }],
    ['x2', { dtype: 'float32', shape, data: image() }],
    ['labels', { dtype: 'float32', shape: [n, 1], data: Float32Array.from({ length: n }, (_, i) => i % 2) }],
  ]);
  return { weights, inputs };
}

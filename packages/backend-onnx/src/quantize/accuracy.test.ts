/**
 * int8 against fp32 on held-out images: the encoder cut of a small ResNet, calibrated on digit-like
 * images with each method, embeds images the calibration never saw in nearly the same direction.
 * Entropy does worst here: the constant background gives the stem's Relu outputs a few tall spikes
 * per channel, and KL divergence, which punishes merging a spike with its neighbours, picks a
 * threshold just above them, clipping the strokes (measured: worst 0.981, mean 0.997).
 */
import { siamese, type Tensor } from '@siamese/core';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportSiameseCut } from '../export/cuts.js';
import { cosines, SIZE, strokeImages, trainedLooking } from './__fixtures__/synthetic.js';
import { calibrate } from './calibrate.js';
import { quantizeQdq } from './qdq.js';
import { CALIBRATION_METHODS } from './ranges.js';

const graph = siamese({ encoder: 'resnet10_w8', input: { channels: 1, height: SIZE, width: SIZE } });
const fp32 = exportSiameseCut(graph, trainedLooking(graph, 3), 'encoder');
const calibration = Array.from({ length: 6 }, (_, i) => strokeImages(8, 10 + i));
const heldOut = strokeImages(32, 99);

async function embed(model: Uint8Array, images: Tensor): Promise<Float32Array> {
  const session = await InferenceSession.create(model, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const feeds = { image: new OrtTensor('float32', images.data as Float32Array, [...images.shape]) };
    return (await session.run(feeds)).embedding!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('int8 embeddings agree with fp32 on held-out images', () => {
  let reference: Float32Array;
  beforeAll(async () => {
    reference = await embed(fp32, heldOut);
  });

  const WORST = { minmax: 0.995, percentile: 0.995, entropy: 0.97 } as const;

  it.each(CALIBRATION_METHODS)('%s calibration: cosine similarity near 1 for every image', async (method) => {
    const ranges = await calibrate(fp32, calibration, { method, threads: 1 });
    expect(ranges.images).toBe(48);
    const cos = cosines(reference, await embed(quantizeQdq(fp32, ranges), heldOut), 32);
    const mean = cos.reduce((a, c) => a + c, 0) / cos.length;
    console.log(`${method}: cosine to fp32 mean ${mean.toFixed(5)}, worst ${Math.min(...cos).toFixed(5)}`);
    expect(mean).toBeGreaterThan(0.99);
    expect(Math.min(...cos)).toBeGreaterThan(WORST[method]);
  });
});

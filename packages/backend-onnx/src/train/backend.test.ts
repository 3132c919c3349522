/** OnnxTrainingBackend's contract beyond the numbers: optimizer state round trips, checks, dispose. */
import { siameseTraining } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { createOnnxBackend } from './backend.js';

const contrastive = siameseTraining(
  { encoder: 'resnet10_w8', input: { channels: 1, height: 16, width: 16 }, combine: 'euclidean' },
  { kind: 'contrastive', margin: 1 },
);

describe('OnnxTrainingBackend', () => {
  it('accepts a checkpoint with slots for parameters the loss does not reach, and rejects unknown slots', async () => {
    const b = await createOnnxBackend({ graph: contrastive, device: 'cpu', optimizer: { kind: 'adam' } });
    try {
      const state = await b.readOptimizerState();
      expect([...state.slots.keys()].some((k) => k.startsWith('head.'))).toBe(false);
      // The tfjs backend keeps slots for the frozen head too (head.0.weight is [1, 1]).
      const withHead = new Map(state.slots);
      const zeros = { dtype: 'float32' as const, shape: [1, 1], data: new Float32Array(1) };
      withHead.set('head.0.weight.exp_avg', zeros);
      await expect(b.writeOptimizerState({ step: 3, slots: withHead })).resolves.toBeUndefined();
      expect((await b.readOptimizerState()).step).toBe(3);
      const unknown = new Map(state.slots).set('encoder.conv1.weight.momentum_buffer', zeros);
      await expect(b.writeOptimizerState({ step: 3, slots: unknown })).rejects.toThrow(
        /slot 'encoder.conv1.weight.momentum_buffer', which this optimizer does not use/,
      );
    } finally {
      await b.dispose();
    }
    await expect(b.evaluate({ inputs: {}, size: 0 })).rejects.toThrow(/used after dispose/);
    await expect(b.forward('distance', { inputs: {}, size: 0 })).rejects.toThrow(/used after dispose/);
  });
});

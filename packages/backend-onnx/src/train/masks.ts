/**
 * Dropout masks for the training step: 0 or 1 / (1 - p) per element, drawn from core's seeded
 * generator as a function of (seed, step, mask) only, so a resumed run draws the same masks.
 */
import { Random } from '@siamese/core';

export function dropoutMask(
  seed: number,
  step: number,
  input: string,
  size: number,
  p: number,
): Float32Array {
  const rng = Random.forName((seed * 1_000_003 + step * 7919) >>> 0, input);
  const keep = 1 / (1 - p);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.uniform() < p ? 0 : keep;
  return out;
}

/**
 * The one dropout rule of every backend: a mask of 0 or 1 / (1 - p) per element, drawn from core's
 * seeded generator as a function of (seed, step, mask input) only, so same-seed runs agree across
 * backends and a resumed run draws the same masks.
 */
import type { Shape } from '../ir/types.js';
import { Random } from '../nn/random.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DropoutMask } from './training-form.js';

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

/** A mask's dimensions: the activation's, with the batch symbol bound to the batch size. */
export function maskDims(shape: Shape, batch: number, input: string): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    if (d === 'N') return batch;
    throw new Error(`dropout mask '${input}' has an unknown symbolic dimension '${d}'`);
  });
}

/** Every mask a training graph needs for step `step` (1-based) of a batch, by input name. */
export function dropoutMasks(
  masks: readonly DropoutMask[],
  o: { readonly seed: number; readonly step: number; readonly batch: number },
): Map<string, Tensor<'float32'>> {
  const out = new Map<string, Tensor<'float32'>>();
  for (const m of masks) {
    const shape = maskDims(m.shape, o.batch, m.input);
    const size = shape.reduce((p, d) => p * d, 1);
    out.set(m.input, { dtype: 'float32', shape, data: dropoutMask(o.seed, o.step, m.input, size, m.p) });
  }
  return out;
}

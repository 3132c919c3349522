/** Input checks for image and embedding batches: one clear line naming the argument and what is wrong. */
import type { Tensor } from '@siamese/core';

export class InputError extends Error {
  override name = 'InputError';
}

/** A float32 NCHW batch with the model's channels and size. */
export function checkImages(t: Tensor, what: string, c: number, h: number, w: number): number {
  if (t.dtype !== 'float32') throw new InputError(`${what} must be float32, got ${t.dtype}`);
  if (t.shape.length !== 4) {
    throw new InputError(
      `${what} must be a batch [N, ${c}, ${h}, ${w}] (NCHW), got shape [${t.shape.join(',')}]`,
    );
  }
  const [n, ch, hh, ww] = t.shape as [number, number, number, number];
  if (ch !== c)
    throw new InputError(
      `${what} has ${ch} channels but the model takes ${c} (${c === 1 ? 'grayscale' : 'RGB'})`,
    );
  if (hh !== h || ww !== w)
    throw new InputError(`${what} is ${hh}x${ww} but the model takes ${h}x${w} images; resize first`);
  if (n < 1) throw new InputError(`${what} is an empty batch`);
  if (t.data.length !== n * c * h * w)
    throw new InputError(
      `${what} has ${t.data.length} values but shape [${t.shape.join(',')}] needs ${n * c * h * w}`,
    );
  return n;
}

/** A float32 [N, D] batch of embeddings. */
export function checkEmbeddings(t: Tensor, what: string, d: number): number {
  if (t.dtype !== 'float32') throw new InputError(`${what} must be float32, got ${t.dtype}`);
  if (t.shape.length !== 2 || t.shape[1] !== d)
    throw new InputError(`${what} must have shape [N, ${d}], got [${t.shape.join(',')}]`);
  const n = t.shape[0] as number;
  if (n < 1) throw new InputError(`${what} is an empty batch`);
  if (t.data.length !== n * d)
    throw new InputError(
      `${what} has ${t.data.length} values but shape [${t.shape.join(',')}] needs ${n * d}`,
    );
  return n;
}

export function sameBatch(na: number, nb: number, a: string, b: string): void {
  if (na !== nb) throw new InputError(`${a} has ${na} items but ${b} has ${nb}; pairs need the same number`);
}

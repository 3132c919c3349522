/** Cutting sampler output and plain lists into the batch lists the loader's batch streams take. */
import { datasetError } from './errors.js';

/** `count` batches of `size` from a sampler with `next(size)` (pairs, triplets). */
export function* take<T>(
  sampler: { next(count: number): T[] },
  size: number,
  count: number,
): Generator<T[], void, undefined> {
  for (let k = 0; k < count; k++) yield sampler.next(size);
}

/** Splits a list into consecutive batches (the last may be shorter): evaluation pairs, episodes. */
export function* chunks<T>(list: readonly T[], size: number): Generator<T[], void, undefined> {
  if (!Number.isInteger(size) || size < 1)
    throw datasetError('options', `batch size must be a positive integer, got ${size}`);
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

/** Seeded helpers over core's Random: every draw in this package goes through them. */
import { Random } from '@siamese/core';
import { datasetError } from './errors.js';

/** A generator for one purpose: the same seed and name always give the same stream. */
export function stream(seed: number, name: string): Random {
  if (!Number.isInteger(seed))
    throw datasetError('options', `seed must be an integer, got ${JSON.stringify(seed)}`);
  return Random.forName(seed, name);
}

/** Fisher-Yates, in place. */
export function shuffleInPlace<T>(items: T[], rng: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
  return items;
}

/** `k` distinct elements, in draw order (partial Fisher-Yates on a copy). */
export function sample<T>(items: readonly T[], k: number, rng: Random): T[] {
  const copy = [...items];
  const n = Math.min(k, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(copy.length - i);
    const t = copy[i] as T;
    copy[i] = copy[j] as T;
    copy[j] = t;
  }
  return copy.slice(0, n);
}

export function pick<T>(items: readonly T[], rng: Random): T {
  if (items.length === 0) throw new RangeError('pick from an empty list');
  return items[rng.int(items.length)] as T;
}

/** Attribute readers: fill defaults, validate, and say exactly which attribute is wrong and why. */
import { ShapeError } from '../ir/errors.js';

type Raw = Readonly<Record<string, unknown>>;

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

export function checkKnown(raw: Raw, known: readonly string[]): void {
  for (const k of Object.keys(raw)) {
    if (!known.includes(k))
      throw new ShapeError(`unknown attribute '${k}' (expected one of: ${known.join(', ')})`);
  }
}

export function int(raw: Raw, key: string, dflt: number, min = Number.NEGATIVE_INFINITY): number {
  const v = raw[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ShapeError(`attribute '${key}' must be an integer >= ${min}, got ${show(v)}`);
  }
  return v;
}

export function num(
  raw: Raw,
  key: string,
  dflt: number,
  min = Number.NEGATIVE_INFINITY,
  max = Infinity,
): number {
  const v = raw[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new ShapeError(`attribute '${key}' must be a number in [${min}, ${max}], got ${show(v)}`);
  }
  return v;
}

export function bool(raw: Raw, key: string, dflt: boolean): boolean {
  const v = raw[key] ?? dflt;
  if (typeof v !== 'boolean') throw new ShapeError(`attribute '${key}' must be a boolean, got ${show(v)}`);
  return v;
}

/** An integer pair `[h, w]`; a single integer means both. */
export function pair(raw: Raw, key: string, dflt: readonly [number, number], min: number): [number, number] {
  const v = raw[key] ?? dflt;
  const p = typeof v === 'number' ? [v, v] : v;
  if (
    !Array.isArray(p) ||
    p.length !== 2 ||
    !p.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= min)
  ) {
    throw new ShapeError(`attribute '${key}' must be an integer >= ${min} or a pair of them, got ${show(v)}`);
  }
  return [p[0] as number, p[1] as number];
}

export function intList(raw: Raw, key: string, dflt: readonly number[]): number[] {
  const v = raw[key] ?? dflt;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    throw new ShapeError(`attribute '${key}' must be a list of integers, got ${show(v)}`);
  }
  return [...v] as number[];
}

export function oneOf<T extends string>(raw: Raw, key: string, dflt: T, allowed: readonly T[]): T {
  const v = raw[key] ?? dflt;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new ShapeError(
      `attribute '${key}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(v)}`,
    );
  }
  return v as T;
}

export const none = (raw: Raw): Record<string, never> => {
  checkKnown(raw, []);
  return {};
};

/** Value checks for flags: each failure names the flag and what was expected. */
import { UsageError } from '../errors.js';

export function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < 1)
    throw new UsageError(`--${flag} must be a positive integer, got '${v}'`);
  return n;
}

export function nonNegativeInt(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n))
    throw new UsageError(`--${flag} must be an integer >= 0, got '${v}'`);
  return n;
}

/** A rate in [0, 1] (a false-accept rate, a fraction). */
export function rate(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n <= 1))
    throw new UsageError(`--${flag} must be a number in [0, 1], got '${v}'`);
  return n;
}

export function oneOfFlag<const V extends readonly string[]>(flag: string, v: string, values: V): V[number] {
  if (!values.includes(v)) throw new UsageError(`--${flag} '${v}' is not one of ${values.join(', ')}`);
  return v as V[number];
}

export function parseSize(v: string): { height: number; width: number } {
  const m = /^(\d+)(?:x(\d+))?$/.exec(v);
  if (!m) throw new UsageError(`--size must be N or HxW (e.g. 105 or 105x105), got '${v}'`);
  const height = positiveInt('size', m[1]!);
  return { height, width: m[2] ? positiveInt('size', m[2]) : height };
}

/** A string flag's value (the last one when given twice), or undefined. */
export function str(v: string | boolean | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v.at(-1);
  return typeof v === 'string' ? v : undefined;
}

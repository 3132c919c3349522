/** Value checks for flags: each failure names the flag and what was expected. */
import { UsageError } from '../errors.js';

export function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, got '${v}'`);
  return n;
}

export function parseSize(v: string): { height: number; width: number } {
  const m = /^(\d+)(?:x(\d+))?$/.exec(v);
  if (!m) throw new UsageError(`--size must be N or HxW (e.g. 105 or 105x105), got '${v}'`);
  const height = positiveInt('size', m[1]!);
  return { height, width: m[2] ? positiveInt('size', m[2]) : height };
}

/** Input checks shared by shape rules. */
import { ShapeError } from '../ir/errors.js';
import { formatType } from '../ir/shape.js';
import type { Dim, DType, Shape, TensorType } from '../ir/types.js';

export function need(t: TensorType | undefined, name: string): TensorType {
  if (!t) throw new ShapeError(`input '${name}' is required`);
  return t;
}

export function rank(t: TensorType, name: string, r: number): void {
  if (t.shape.length !== r) {
    throw new ShapeError(`input '${name}' must have rank ${r}, got ${formatType(t)}`);
  }
}

export function dtype(t: TensorType, name: string, dt: DType = 'float32'): void {
  if (t.dtype !== dt) throw new ShapeError(`input '${name}' must be ${dt}, got ${formatType(t)}`);
}

export function float(t: TensorType | undefined, name: string, r?: number): TensorType {
  const v = need(t, name);
  dtype(v, name);
  if (r !== undefined) rank(v, name, r);
  return v;
}

/** A static dimension, for rules that do arithmetic on it. */
export function staticDim(d: Dim | undefined, what: string): number {
  if (typeof d !== 'number') throw new ShapeError(`${what} must be a static size, got '${String(d)}'`);
  return d;
}

/** Numpy-style broadcasting of two shapes; symbols broadcast only against themselves or 1. */
export function broadcast(a: Shape, b: Shape): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else
      throw new ShapeError(
        `shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast (dimension ${i}: ${x} vs ${y})`,
      );
  }
  return out;
}

export function normAxis(axis: number, r: number, what = 'axis'): number {
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) throw new ShapeError(`attribute '${what}' = ${axis} is out of range for rank ${r}`);
  return a;
}

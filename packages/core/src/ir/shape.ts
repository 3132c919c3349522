/** Small helpers for shapes whose dimensions may be symbolic. */
import type { Dim, Shape, TensorType } from './types.js';

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

const DTYPE_SHORT: Record<string, string> = {
  float32: 'f32',
  int64: 'i64',
  int32: 'i32',
  uint8: 'u8',
  bool: 'bool',
};

export function formatType(t: TensorType): string {
  return `${DTYPE_SHORT[t.dtype] ?? t.dtype}${formatShape(t.shape)}`;
}

export function dimsEqual(a: Dim, b: Dim): boolean {
  return a === b;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => dimsEqual(d, b[i] as Dim));
}

/** Product of the dimensions; throws if any is symbolic. */
export function staticSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') throw new Error(`shape ${formatShape(shape)} has symbolic dimension '${d}'`);
    n *= d;
  }
  return n;
}

/**
 * Element count with symbols bound (unbound symbols default to 1), for cost estimates.
 */
export function boundSize(shape: Shape, bindings: Readonly<Record<string, number>> = {}): number {
  let n = 1;
  for (const d of shape) n *= typeof d === 'number' ? d : (bindings[d] ?? 1);
  return n;
}

export function isStatic(d: Dim): d is number {
  return typeof d === 'number';
}

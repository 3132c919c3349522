/**
 * Tensor and tolerance shapes shared by the op conformance cases (index.ts) and the model parity
 * fixtures (parity.ts); kept here so neither imports the other.
 */

/** Row-major float32 values; a scalar has shape [] and one value. */
export interface ConformanceTensor {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** Passes when |actual - expected| <= atol + rtol * |expected| for every element (numpy's allclose). */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

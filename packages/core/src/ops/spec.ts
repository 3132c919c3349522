/** What every op declares: inputs, attrs (with defaults and validation), shape rule, FLOP rule, doc. */
import type { TensorType } from '../ir/types.js';

export interface InputSpec {
  readonly name: string;
  /** May be omitted (passed as `''`), e.g. a convolution bias. */
  readonly optional?: boolean;
  /** Takes one or more values (only as the last input), e.g. `concat`. */
  readonly variadic?: boolean;
}

/** Bindings for symbolic dimensions when estimating cost (e.g. `{ N: 1 }`). */
export type DimBindings = Readonly<Record<string, number>>;

export interface OpSpec<A> {
  readonly doc: string;
  readonly inputs: readonly InputSpec[];
  readonly outputs: readonly string[];
  /** Fills defaults and validates; throws ShapeError naming the bad attribute. */
  readonly attrs: (raw: Readonly<Record<string, unknown>>) => A;
  /** Output types from input types (`undefined` for an omitted optional input). Throws ShapeError. */
  readonly shape: (inputs: readonly (TensorType | undefined)[], attrs: A) => TensorType[];
  /**
   * Multiply-adds, torchvision's "GFLOPS" convention: a conv or linear counts one per
   * multiply-accumulate; element-wise work counts one per output element.
   */
  readonly flops: (
    inputs: readonly (TensorType | undefined)[],
    outputs: readonly TensorType[],
    attrs: A,
    bindings: DimBindings,
  ) => number;
}

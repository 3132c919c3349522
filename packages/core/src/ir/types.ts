/**
 * The graph IR: values with dtype and (partly symbolic) shape, nodes in topological order,
 * parameters and buffers declared with shape, initializer and trainable flag.
 */

/** How a parameter or buffer gets its initial value; materialized by nn/init (initTensor, initWeights). */
export type Initializer =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' }
  | { readonly kind: 'constant'; readonly value: number }
  /** N(0, gain^2 / fan) with gain sqrt(2) for relu, 1 for linear (torch.nn.init.kaiming_normal_). */
  | {
      readonly kind: 'kaimingNormal';
      readonly mode: 'fanIn' | 'fanOut';
      readonly nonlinearity: 'relu' | 'linear';
    }
  | { readonly kind: 'uniform'; readonly bound: number }
  | { readonly kind: 'normal'; readonly std: number };

/** Element types the IR knows. float32 carries activations and weights; int64 BatchNorm counters. */
export type DType = 'float32' | 'int64' | 'int32' | 'uint8' | 'bool';

/** A dimension: a concrete size, or a symbol (e.g. `"N"` for the batch) bound at run time. */
export type Dim = number | string;
export type Shape = readonly Dim[];

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** A named value in a graph: a graph input, a parameter/buffer, or a node output. */
export interface Value extends TensorType {
  readonly name: string;
}

export interface Node {
  /** Unique scoped name, e.g. `a/encoder.layer1.0.conv1` (branch `a`, scope `encoder.layer1.0`). */
  readonly name: string;
  readonly op: string;
  /** Names of the input values, in the op's input order. `''` marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, unknown>>;
}

/** A parameter (trainable) or buffer (state such as BatchNorm running statistics). */
export interface Param extends Value {
  readonly kind: 'parameter' | 'buffer';
  readonly trainable: boolean;
  readonly init: Initializer;
}

export interface GraphOutput {
  /** Public name of the output (e.g. `logit`). */
  readonly name: string;
  /** The value it exposes. */
  readonly value: string;
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly params: readonly Param[];
  readonly nodes: readonly Node[];
  /** Types of every node output, by value name. */
  readonly values: Readonly<Record<string, TensorType>>;
  readonly outputs: readonly GraphOutput[];
  /** Free-form, JSON-serializable description (architecture config, combine mode, ...). */
  readonly meta: Readonly<Record<string, unknown>>;
}

/** Bumped whenever the JSON form changes incompatibly. */
export const IR_VERSION = 1;

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

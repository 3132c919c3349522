/**
 * Which values the QDQ rewrite quantizes, and how, decided from the graph alone so that calibration
 * observes exactly the values the rewrite needs. The groups are the ones onnxruntime's QDQ
 * transformer turns into integer kernels:
 * - compute: Conv -> QLinearConv, Gemm -> QGemm, MatMul -> QLinearMatMul or MatMulIntegerToFloat;
 *   activation input quantized, constant weight int8 per channel, bias int32.
 * - qlinear: Add (two computed inputs), GlobalAveragePool, AveragePool -> their QLinear forms.
 * - shared: MaxPool, Flatten, Reshape, Transpose, Squeeze, Unsqueeze run on uint8 when their input
 *   and output carry the same scale and zero point, so their output reuses the input's.
 * A Relu that is a compute or qlinear node's only reader joins the group: its output is the one
 * quantized, with zero point 0, which makes the Relu redundant and onnxruntime drops it.
 */
import type { NodeProto } from '../proto/onnx_pb.js';
import { attrNumber, dimsOf, type GraphView, isFloatInitializer } from './graph.js';

export type GroupRole = 'compute' | 'qlinear' | 'shared';

export interface Group {
  readonly node: NodeProto;
  readonly role: GroupRole;
  /** Input slots read as uint8 activations. */
  readonly activations: readonly number[];
  /** compute: the constant weight's slot and its output-channel axis (quantized per channel). */
  readonly weight?: { readonly slot: number; readonly axis: number };
  /** compute: the constant bias's slot (quantized to int32 with scale s_x * s_w). */
  readonly bias?: number;
  /** A Relu folded into the group: its output is the group's quantized output. */
  readonly relu?: NodeProto;
}

/** How a quantized value gets its scale and zero point. */
export type Source = { readonly kind: 'calibrated' } | { readonly kind: 'shared'; readonly from: string };

export interface QdqPlan {
  /** Groups by their main node. */
  readonly groups: ReadonlyMap<NodeProto, Group>;
  /** Every quantized value (a Q after its producer, a DQ before each reader). */
  readonly quantized: ReadonlyMap<string, Source>;
  /** Values that need a calibrated range, in graph order. */
  readonly calibrated: readonly string[];
}

const QLINEAR = new Set(['Add', 'GlobalAveragePool', 'AveragePool']);
const SHARED = new Set(['MaxPool', 'Flatten', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze']);

/** What part of a model to quantize. */
export interface QdqScope {
  /**
   * Quantize only the nodes these values depend on (a Siamese pair cut up to its embeddings, so its
   * head stays float); default: the whole model.
   */
  readonly upTo?: readonly string[];
}

/** `who` prefixes the error for a model with nothing worth quantizing. */
export function planQdq(view: GraphView, who: string, scope: QdqScope = {}): QdqPlan {
  const inScope = scope.upTo ? ancestors(view, scope.upTo, who) : undefined;
  const groups = new Map<NodeProto, Group>();
  for (const node of view.graph.node) {
    if (inScope && !inScope.has(node)) continue;
    const g = group(view, node);
    if (g) groups.set(node, g);
  }
  if (![...groups.values()].some((g) => g.role === 'compute')) {
    throw new Error(
      `${who}: nothing to quantize: the model has no Conv, Gemm or MatMul with a constant weight`,
    );
  }
  const reads = (value: string): boolean =>
    (view.uses.get(value) ?? []).some(({ node, slot }) => {
      const g = groups.get(node);
      return g !== undefined && g.role !== 'shared' && g.activations.includes(slot);
    });
  const foldedRelus = new Set([...groups.values()].flatMap((g) => (g.relu ? [g.relu] : [])));

  const quantized = new Map<string, Source>();
  const calibrated: string[] = [];
  const calibrate = (value: string): void => {
    quantized.set(value, { kind: 'calibrated' });
    calibrated.push(value);
  };
  for (const input of view.inputs) if (reads(input)) calibrate(input);
  for (const node of view.graph.node) {
    if (foldedRelus.has(node)) continue; // Decided with its group.
    const g = groups.get(node);
    for (const out of node.output) {
      if (!out) continue;
      const value = g?.relu ? g.relu.output[0]! : out;
      if (g && g.role === 'shared') {
        const source = quantized.get(node.input[0]!);
        if (source)
          quantized.set(value, source.kind === 'shared' ? source : { kind: 'shared', from: node.input[0]! });
        else if (reads(value)) calibrate(value);
      } else if (g && (g.role === 'qlinear' || g.node.opType === 'Conv')) {
        // QLinearConv and the QLinear ops always write uint8.
        calibrate(value);
      } else if (reads(value)) {
        calibrate(value);
      }
    }
  }
  return { groups, quantized, calibrated };
}

/** The nodes that `values` depend on. */
function ancestors(view: GraphView, values: readonly string[], who: string): Set<NodeProto> {
  const found = new Set<NodeProto>();
  const stack = [...values];
  for (const v of values) {
    if (!view.producer.has(v))
      throw new Error(`${who}: upTo names '${v}', which no node of the model computes`);
  }
  while (stack.length > 0) {
    const node = view.producer.get(stack.pop()!);
    if (!node || found.has(node)) continue;
    found.add(node);
    stack.push(...node.input.filter((i) => i !== ''));
  }
  return found;
}

/** The group `node` heads, or undefined when it stays float. */
function group(view: GraphView, node: NodeProto): Group | undefined {
  const computed = (name: string | undefined): boolean => !!name && !view.initializers.has(name);
  const [x, w, b] = node.input;
  /** The rank of a float constant, -1 for anything else. */
  const rank = (name: string | undefined): number =>
    name && isFloatInitializer(view, name) ? view.initializers.get(name)!.dims.length : -1;
  let found: Omit<Group, 'relu'> | undefined;
  switch (node.opType) {
    case 'Conv':
      if (computed(x) && rank(w) >= 3 && (!b || rank(b) === 1)) {
        found = {
          node,
          role: 'compute',
          activations: [0],
          weight: { slot: 1, axis: 0 },
          ...(b ? { bias: 2 } : {}),
        };
      }
      break;
    case 'Gemm':
      if (computed(x) && rank(w) === 2 && (!b || rank(b) === 1)) found = gemm(view, node);
      break;
    case 'MatMul':
      if (computed(x) && rank(w) === 2)
        found = { node, role: 'compute', activations: [0], weight: { slot: 1, axis: 1 } };
      break;
    default:
      if (QLINEAR.has(node.opType) && node.input.every(computed) && node.output.length === 1) {
        found = { node, role: 'qlinear', activations: node.input.map((_, i) => i) };
      } else if (SHARED.has(node.opType) && computed(x) && node.output.length === 1) {
        found = { node, role: 'shared', activations: [0] };
      }
  }
  if (!found || found.role === 'shared') return found;
  const relu = foldableRelu(view, node);
  return relu ? { ...found, relu } : found;
}

/** Gemm(A, B, C) with C absent or one value per output column, alpha = beta = 1. */
function gemm(view: GraphView, node: NodeProto): Omit<Group, 'relu'> | undefined {
  const bias = node.input[2];
  // The int32 bias has scale s_a * s_b: it cannot carry alpha or beta.
  if (attrNumber(node, 'alpha', 1) !== 1 || (bias && attrNumber(node, 'beta', 1) !== 1)) return undefined;
  const transB = attrNumber(node, 'transB', 0) === 1;
  const columns = dimsOf(view.initializers.get(node.input[1]!)!)[transB ? 0 : 1];
  if (bias && dimsOf(view.initializers.get(bias)!)[0] !== columns) return undefined;
  return {
    node,
    role: 'compute',
    activations: [0],
    weight: { slot: 1, axis: transB ? 0 : 1 },
    ...(bias ? { bias: 2 } : {}),
  };
}

/** The Relu that is the node's only reader, when the node's output is not also a graph output. */
function foldableRelu(view: GraphView, node: NodeProto): NodeProto | undefined {
  const out = node.output[0]!;
  const uses = view.uses.get(out) ?? [];
  if (view.outputs.has(out) || uses.length !== 1 || uses[0]!.node.opType !== 'Relu') return undefined;
  return uses[0]!.node;
}

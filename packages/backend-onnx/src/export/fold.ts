/**
 * Eval-mode BatchNorm folding: a batchNorm whose input is a convolution's output (used by nothing
 * else) becomes part of that convolution, W' = W * s and b' = beta + (b - mean) * s per output
 * channel with s = gamma / sqrt(var + eps). Computed in float64, rounded once to float32, so folded
 * and unfolded models agree to float32 rounding; onnxruntime no longer fuses them at session start.
 */
import {
  type Graph,
  type Node,
  opSpec,
  type Param,
  type Tensor,
  type TensorType,
  verify,
} from '@siamese/core';

export interface Folded {
  readonly graph: Graph;
  /** The graph's weights, plus the folded convolution weights and biases. */
  readonly weights: Map<string, Tensor>;
  /** How many batchNorm nodes were folded away. */
  readonly count: number;
}

export function foldBatchNorm(graph: Graph, weights: ReadonlyMap<string, Tensor>): Folded {
  const producer = new Map<string, Node>();
  const uses = new Map<string, number>();
  for (const n of graph.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  for (const o of graph.outputs) uses.set(o.value, (uses.get(o.value) ?? 0) + 1);
  const float = (name: string | undefined): Float32Array | undefined => {
    const t = name ? weights.get(name) : undefined;
    return t?.dtype === 'float32' ? (t.data as Float32Array) : undefined;
  };

  const out = new Map(weights);
  const newParams: Param[] = [];
  const made = new Map<string, readonly [string, string]>();
  const replaced = new Map<Node, Node>();
  const dropped = new Set<Node>();
  const taken = new Set([...graph.params.map((p) => p.name), ...Object.keys(graph.values)]);
  const claim = (hint: string): string => {
    let name = hint;
    for (let i = 1; taken.has(name); i++) name = `${hint}_${i}`;
    taken.add(name);
    return name;
  };

  for (const bn of graph.nodes) {
    if (bn.op !== 'batchNorm') continue;
    const conv = producer.get(bn.inputs[0]!);
    if (conv?.op !== 'conv2d' || uses.get(conv.outputs[0]!) !== 1) continue;
    const [, wName, bName = ''] = conv.inputs;
    const [, gName, betaName, meanName, varName] = bn.inputs;
    const w = weights.get(wName!);
    const [gamma, beta, mean, variance] = [gName, betaName, meanName, varName].map(float);
    const bias = bName ? float(bName) : new Float32Array(gamma?.length ?? 0);
    if (w?.dtype !== 'float32' || !gamma || !beta || !mean || !variance || !bias) continue;

    // Shared convolutions (both Siamese branches) fold once, under one pair of names.
    const key = [wName, bName, gName, betaName, meanName, varName].join('\0');
    let pair = made.get(key);
    if (!pair) {
      const { eps } = opSpec('batchNorm').attrs(bn.attrs);
      const stem = wName!.replace(/\.weight$/, '');
      pair = [claim(`${stem}.weight.folded`), claim(`${stem}.bias.folded`)] as const;
      const { weight, biasOut } = fold(w as Tensor<'float32'>, bias, gamma, beta, mean, variance, eps);
      out.set(pair[0], weight);
      out.set(pair[1], biasOut);
      newParams.push(param(pair[0], weight), param(pair[1], biasOut));
      made.set(key, pair);
    }
    replaced.set(conv, { ...conv, inputs: [conv.inputs[0]!, ...pair], outputs: bn.outputs });
    dropped.add(bn);
  }

  const nodes = graph.nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
  const read = new Set(nodes.flatMap((n) => n.inputs));
  for (const o of graph.outputs) read.add(o.value);
  const values: Record<string, TensorType> = {};
  for (const n of nodes) for (const o of n.outputs) values[o] = graph.values[o]!;
  const folded: Graph = {
    ...graph,
    params: [...graph.params, ...newParams].filter((p) => read.has(p.name)),
    nodes,
    values,
  };
  verify(folded);
  return { graph: folded, weights: out, count: dropped.size };
}

function fold(
  w: Tensor<'float32'>,
  bias: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
): { weight: Tensor<'float32'>; biasOut: Tensor<'float32'> } {
  const channels = w.shape[0]!;
  const per = w.data.length / channels;
  const data = new Float32Array(w.data.length);
  const b = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    const s = gamma[o]! / Math.sqrt(variance[o]! + eps);
    for (let i = o * per; i < (o + 1) * per; i++) data[i] = w.data[i]! * s;
    b[o] = beta[o]! + (bias[o]! - mean[o]!) * s;
  }
  return {
    weight: { dtype: 'float32', shape: w.shape, data },
    biasOut: { dtype: 'float32', shape: [channels], data: b },
  };
}

function param(name: string, t: Tensor): Param {
  // The initializer spec only matters to training, which never sees a folded graph.
  return {
    name,
    dtype: 'float32',
    shape: t.shape,
    kind: 'parameter',
    trainable: false,
    init: { kind: 'zeros' },
  };
}

/**
 * The encoder cut's calibrated ranges under the pair cut's value names. The pair cut lowers the
 * same encoder sub-graph once (over x1 and x2 stacked) or twice (once per side, with uniquified
 * names), node for node in the encoder cut's order, so each copy is found by its sequence of
 * operators and matched position by position: one calibration serves every cut, and a pair scored
 * by the pair cut equals its two embeddings scored by the head.
 */
import type { NodeProto } from '../proto/onnx_pb.js';
import { viewModel } from './graph.js';
import type { ActivationRanges, Range } from './ranges.js';

export function pairRanges(
  pair: Uint8Array,
  encoder: Uint8Array,
  ranges: ActivationRanges,
): ActivationRanges {
  const p = viewModel(pair, 'pairRanges');
  const e = viewModel(encoder, 'pairRanges');
  const enc = e.graph.node;
  const nodes = p.graph.node;
  const out = new Map<string, Range>();
  const copy = (from: string, to: string): void => {
    const r = ranges.ranges.get(from);
    if (r) out.set(to, r);
  };
  let copies = 0;
  for (let at = 0; at + enc.length <= nodes.length; ) {
    if (!sameOps(nodes, at, enc)) {
      at++;
      continue;
    }
    enc.forEach((node, i) => {
      const twin = nodes[at + i]!;
      for (const [k, v] of node.output.entries()) copy(v, twin.output[k]!);
      for (const [k, v] of node.input.entries()) if (e.inputs.includes(v)) copy(v, twin.input[k]!);
    });
    copies++;
    at += enc.length;
  }
  if (copies === 0) {
    throw new Error(
      'pairRanges: the pair model does not contain the encoder model (export both from the same model)',
    );
  }
  return { ...ranges, ranges: out };
}

function sameOps(nodes: readonly NodeProto[], at: number, enc: readonly NodeProto[]): boolean {
  for (let i = 0; i < enc.length; i++) if (nodes[at + i]!.opType !== enc[i]!.opType) return false;
  return true;
}

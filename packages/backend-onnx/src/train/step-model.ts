/**
 * ONNX models for training: the whole training step (core's `trainingStep` graph) and the
 * eval-mode forward, both with every parameter, buffer and optimizer slot as a graph INPUT, so one
 * session serves every step while the state lives in host arrays the caller swaps each step.
 */
import type { Graph, TensorType } from '@siamese/core';
import { LoweringContext } from '../export/context.js';
import { lowerGraph } from '../export/graph.js';
import { serializeModel, valueInfo } from '../export/model.js';
import type { ValueInfoProto } from '../proto/onnx_pb.js';

export interface TrainingModel {
  readonly bytes: Uint8Array;
  /** Parameters, buffers and slots the model reads, by name (what to feed besides `dataInputs`). */
  readonly stateInputs: readonly string[];
  /** Graph inputs that are not state (batch, masks, lr, step). */
  readonly dataInputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Lowers `graph` with its state as inputs; `outputs` picks which public outputs the model returns. */
export function trainingModel(graph: Graph, outputs: readonly string[], doc: string): TrainingModel {
  const ctx = new LoweringContext();
  const picked: Graph = { ...graph, outputs: graph.outputs.filter((o) => outputs.includes(o.name)) };
  const names = lowerGraph(ctx, picked, new Map(), { paramsAsInputs: true });
  const read = new Set(ctx.nodes.flatMap((n) => n.input));
  const types = new Map<string, TensorType>(Object.entries(graph.values));
  for (const i of graph.inputs) types.set(i.name, i);
  const state = graph.params.filter((p) => read.has(p.name));
  const data = graph.inputs.filter((i) => read.has(i.name));
  const inputs: ValueInfoProto[] = [...data, ...state].map((v) => valueInfo(v.name, v));
  const outs = picked.outputs.map((o) => valueInfo(names.get(o.name)!, types.get(o.value)!));
  const bytes = serializeModel(
    ctx,
    { graph: picked, inputs, outputs: outs, metadata: { cut: doc } },
    { docString: `${graph.name}: ${doc}, by @siamese/backend-onnx` },
  );
  return {
    bytes,
    stateInputs: state.map((p) => p.name),
    dataInputs: data.map((i) => i.name),
    outputs: picked.outputs.map((o) => o.name),
  };
}

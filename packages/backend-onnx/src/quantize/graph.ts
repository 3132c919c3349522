/**
 * A read-only view of an fp32 ONNX model for calibration and the QDQ rewrite: who produces and who
 * reads each value, which values are constant initializers, and the graph's own inputs and outputs.
 * Models that are already quantized (or optimized into onnxruntime's own ops) are refused here.
 */
import { fromBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  type GraphProto,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  type TensorProto,
  TensorProto_DataType,
} from '../proto/onnx_pb.js';

/** One read of a value: the node and the input slot. */
export interface Use {
  readonly node: NodeProto;
  readonly slot: number;
}

export interface GraphView {
  readonly model: ModelProto;
  readonly graph: GraphProto;
  /** The default-domain opset the model imports. */
  readonly opset: number;
  readonly initializers: ReadonlyMap<string, TensorProto>;
  readonly producer: ReadonlyMap<string, NodeProto>;
  readonly uses: ReadonlyMap<string, readonly Use[]>;
  /** Graph inputs that are fed at run time (not initializers). */
  readonly inputs: readonly string[];
  readonly outputs: ReadonlySet<string>;
}

/** Per-channel DequantizeLinear (the `axis` attribute) appeared in opset 13. */
const MIN_OPSET = 13;

const QUANTIZED_OPS = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'ConvInteger',
  'MatMulInteger',
]);

/** Decodes and checks a model; `who` prefixes error messages. */
export function viewModel(bytes: Uint8Array, who: string): GraphView {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw new Error(`${who}: the bytes are not an ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
  const graph = model.graph;
  if (!graph || graph.node.length === 0) throw new Error(`${who}: the ONNX model has no graph nodes`);
  const opset = Number(
    model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0,
  );
  if (opset < MIN_OPSET)
    throw new Error(`${who}: the model imports opset ${opset}; QDQ needs opset >= ${MIN_OPSET}`);
  for (const n of graph.node) {
    if (QUANTIZED_OPS.has(n.opType) || n.opType.startsWith('QLinear')) {
      throw new Error(
        `${who}: the model is already quantized (node '${n.name}' is a ${n.opType}); pass the fp32 export`,
      );
    }
    if (n.domain !== '' && n.domain !== 'ai.onnx') {
      throw new Error(
        `${who}: node '${n.name}' is a ${n.domain}.${n.opType}; pass the fp32 export, not an optimized model`,
      );
    }
  }
  elideIdentities(graph);
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const producer = new Map<string, NodeProto>();
  const uses = new Map<string, Use[]>();
  for (const node of graph.node) {
    for (const o of node.output) if (o) producer.set(o, node);
    node.input.forEach((name, slot) => {
      if (!name) return;
      const list = uses.get(name) ?? [];
      list.push({ node, slot });
      uses.set(name, list);
    });
  }
  return {
    model,
    graph,
    opset,
    initializers,
    producer,
    uses,
    inputs: graph.input.map((i) => i.name).filter((n) => !initializers.has(n)),
    outputs: new Set(graph.output.map((o) => o.name)),
  };
}

/**
 * Drops Identity nodes (eval-mode dropout) whose output is not a graph output, pointing their readers
 * at the Identity's input: a Q/DQ pair on each side of an Identity would keep a Gemm from fusing.
 */
function elideIdentities(graph: GraphProto): void {
  const outputs = new Set(graph.output.map((o) => o.name));
  const alias = new Map<string, string>();
  const resolve = (name: string): string => alias.get(name) ?? name;
  graph.node = graph.node.filter((n) => {
    for (let i = 0; i < n.input.length; i++) n.input[i] = resolve(n.input[i]!);
    if (n.opType !== 'Identity' || outputs.has(n.output[0]!)) return true;
    alias.set(n.output[0]!, n.input[0]!);
    return false;
  });
}

/** Whether `name` is a float32 initializer stored in the model (not external data). */
export function isFloatInitializer(view: GraphView, name: string): boolean {
  const t = view.initializers.get(name);
  return t?.dataType === TensorProto_DataType.FLOAT && t.externalData.length === 0;
}

/** A float32 initializer's values (raw little-endian bytes or float_data), or undefined for any other value. */
export function floatInitializer(view: GraphView, name: string): Float32Array | undefined {
  const t = view.initializers.get(name);
  if (!t || !isFloatInitializer(view, name)) return undefined;
  if (t.rawData.length === 0) return Float32Array.from(t.floatData);
  const view32 = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
  const out = new Float32Array(t.rawData.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view32.getFloat32(i * 4, true);
  return out;
}

/** An initializer's dims as numbers. */
export function dimsOf(t: TensorProto): number[] {
  return t.dims.map((d) => Number(d));
}

/** A node's integer or float attribute, or `fallback` when absent. */
export function attrNumber(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  if (!a) return fallback;
  return a.type === AttributeProto_AttributeType.FLOAT ? a.f : Number(a.i);
}

/**
 * The QDQ rewrite of an fp32 model (see plan.ts for what is quantized): QuantizeLinear after the
 * producer of each quantized value, a DequantizeLinear of its own before each reader (onnxruntime
 * only fuses a DequantizeLinear that feeds one node), int8 weights and int32 biases behind
 * DequantizeLinear. The float model stays runnable as is; onnxruntime's optimizer turns each group
 * into an integer kernel. Graph outputs keep their names and stay float.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { attr } from '../export/context.js';
import {
  type AttributeProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  StringStringEntryProtoSchema,
  type TensorProto,
} from '../proto/onnx_pb.js';
import { dimsOf, floatInitializer, type GraphView, viewModel } from './graph.js';
import { initializer } from './initializers.js';
import { type ActivationParams, activationParams, quantizeBias, quantizeWeight } from './params.js';
import { type Group, planQdq, type QdqPlan, type QdqScope } from './plan.js';
import type { ActivationRanges } from './ranges.js';

/** metadata_props key describing how the model was quantized (JSON). */
export const QUANTIZATION_METADATA_KEY = 'quantization';

/** A value's uint8 parameters and the initializers that hold them. */
interface Stored extends ActivationParams {
  readonly scaleName: string;
  readonly zeroPointName: string;
}

/**
 * Rewrites a fp32 ONNX model (e.g. an encoder cut) into QDQ form with `ranges` from `calibrate` on
 * it (with the same scope).
 */
export function quantizeQdq(model: Uint8Array, ranges: ActivationRanges, scope: QdqScope = {}): Uint8Array {
  const view = viewModel(model, 'quantizeQdq');
  const plan = planQdq(view, 'quantizeQdq', scope);
  const rw = new Rewrite(view, plan, ranges);
  rw.run();
  const { graph } = view;
  graph.node = rw.nodes;
  const read = new Set([...rw.nodes.flatMap((n) => n.input), ...view.outputs]);
  graph.initializer = [...graph.initializer.filter((t) => read.has(t.name)), ...rw.initializers];
  const meta = view.model.metadataProps.filter((p) => p.key !== QUANTIZATION_METADATA_KEY);
  meta.push(
    create(StringStringEntryProtoSchema, {
      key: QUANTIZATION_METADATA_KEY,
      value: JSON.stringify({
        format: 'QDQ',
        activations: 'uint8 asymmetric per tensor',
        weights: 'int8 symmetric per channel',
        method: ranges.method,
        images: ranges.images,
      }),
    }),
  );
  view.model.metadataProps = meta;
  return toBinary(ModelProtoSchema, view.model);
}

/** A weight's int8 initializer, its per-channel scales and their initializers. */
interface Quantized {
  readonly int8: string;
  readonly scale: string;
  readonly zeroPoint: string;
  readonly scales: Float32Array;
}

class Rewrite {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly values = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly params = new Map<string, Stored>();
  /** The uint8 value of each quantized value, once its QuantizeLinear is emitted. */
  private readonly quantizedName = new Map<string, string>();
  private readonly weights = new Map<string, Quantized>();
  private readonly biases = new Map<string, { int32: string; scale: string }>();

  constructor(
    private readonly view: GraphView,
    private readonly plan: QdqPlan,
    private readonly ranges: ActivationRanges,
  ) {
    for (const n of view.graph.node) {
      this.nodeNames.add(n.name);
      for (const v of [...n.input, ...n.output]) this.values.add(v);
    }
    for (const v of [...view.graph.input, ...view.graph.output, ...view.graph.initializer])
      this.values.add(v.name);
  }

  run(): void {
    for (const value of this.plan.calibrated) this.store(value);
    for (const input of this.view.inputs) if (this.plan.quantized.has(input)) this.quantize(input, input);
    for (const node of this.view.graph.node) this.rewriteNode(node);
  }

  private rewriteNode(node: NodeProto): void {
    const g = this.plan.groups.get(node);
    const input = node.input.map((name, slot) => {
      if (!name) return name;
      if (this.plan.quantized.has(name)) return this.dequantize(name);
      if (g?.weight?.slot === slot) return this.weightDq(g);
      if (g?.bias === slot) return this.biasDq(g, name);
      return name;
    });
    // A graph output that is quantized is written under another name and dequantized into its own.
    const output = node.output.map((o) =>
      this.plan.quantized.has(o) && this.view.outputs.has(o) ? this.fresh(`${o}/float`) : o,
    );
    const original = node.output;
    node.input = input;
    node.output = output;
    this.nodes.push(node);
    original.forEach((o, i) => {
      if (!this.plan.quantized.has(o)) return;
      this.quantize(o, output[i]!);
      if (this.view.outputs.has(o))
        this.node('DequantizeLinear', [this.quantizedName.get(o)!, ...this.qparams(o)], o);
    });
  }

  private store(value: string): void {
    const r = this.ranges.ranges.get(value);
    if (!r) {
      throw new Error(
        `quantizeQdq: no calibrated range for '${value}' (${this.plan.calibrated.length} values need one); calibrate this same model`,
      );
    }
    let p: ActivationParams;
    try {
      p = activationParams(r);
    } catch (e) {
      throw new Error(`quantizeQdq: the range of '${value}' is unusable: ${(e as Error).message}`);
    }
    const scaleName = this.constant(`${value}/scale`, [], Float32Array.of(p.scale));
    const zeroPointName = this.constant(`${value}/zero_point`, [], Uint8Array.of(p.zeroPoint));
    this.params.set(value, { ...p, scaleName, zeroPointName });
  }

  /** The value's parameters: its own, or those of the value it shares them with. */
  private paramsOf(value: string): Stored {
    const source = this.plan.quantized.get(value)!;
    return this.params.get(source.kind === 'shared' ? source.from : value)!;
  }

  private qparams(value: string): [string, string] {
    const p = this.paramsOf(value);
    return [p.scaleName, p.zeroPointName];
  }

  private quantize(value: string, from: string): void {
    const q = this.node('QuantizeLinear', [from, ...this.qparams(value)], this.fresh(`${value}/quantized`));
    this.quantizedName.set(value, q);
  }

  private dequantize(value: string): string {
    return this.node(
      'DequantizeLinear',
      [this.quantizedName.get(value)!, ...this.qparams(value)],
      this.fresh(`${value}/dequantized`),
    );
  }

  /** The int8 copy of a weight, made once per weight and axis. */
  private weightOf(g: Group): Quantized {
    const name = g.node.input[g.weight!.slot]!;
    const axis = g.weight!.axis;
    const key = `${name}\0${axis}`;
    let w = this.weights.get(key);
    if (!w) {
      const dims = dimsOf(this.view.initializers.get(name)!);
      const { data, scales } = quantizeWeight(floatInitializer(this.view, name)!, dims, axis);
      w = {
        int8: this.constant(`${name}/int8`, dims, data),
        scale: this.constant(`${name}/scale`, [scales.length], scales),
        zeroPoint: this.constant(`${name}/zero_point`, [scales.length], new Int8Array(scales.length)),
        scales,
      };
      this.weights.set(key, w);
    }
    return w;
  }

  private weightDq(g: Group): string {
    const w = this.weightOf(g);
    const name = g.node.input[g.weight!.slot]!;
    return this.node('DequantizeLinear', [w.int8, w.scale, w.zeroPoint], this.fresh(`${name}/dequantized`), [
      attr.int('axis', g.weight!.axis),
    ]);
  }

  private biasDq(g: Group, name: string): string {
    const inputScale = this.paramsOf(g.node.input[g.activations[0]!]!).scale;
    const weight = this.weightOf(g);
    // Two readers of one bias (the two passes of a pair model) may see different input scales.
    const key = `${name}\0${inputScale}`;
    let b = this.biases.get(key);
    if (!b) {
      const { data, scales } = quantizeBias(floatInitializer(this.view, name)!, inputScale, weight.scales);
      b = {
        int32: this.constant(`${name}/int32`, [data.length], data),
        scale: this.constant(`${name}/scale`, [scales.length], scales),
      };
      this.biases.set(key, b);
    }
    // int32 DequantizeLinear takes no zero point: it is 0.
    return this.node('DequantizeLinear', [b.int32, b.scale], this.fresh(`${name}/dequantized`), [
      attr.int('axis', 0),
    ]);
  }

  private node(opType: string, input: string[], output: string, attribute: AttributeProto[] = []): string {
    let name = `${output}/${opType}`;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${output}/${opType}_${i}`;
    this.nodeNames.add(name);
    this.nodes.push(create(NodeProtoSchema, { name, opType, input, output: [output], attribute }));
    return output;
  }

  private constant(
    hint: string,
    dims: number[],
    values: Int8Array | Uint8Array | Int32Array | Float32Array,
  ): string {
    const name = this.fresh(hint);
    this.initializers.push(initializer(name, dims, values));
    return name;
  }

  private fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.values.has(name); i++) name = `${hint}_${i}`;
    this.values.add(name);
    return name;
  }
}

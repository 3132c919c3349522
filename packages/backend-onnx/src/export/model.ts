/**
 * A core graph plus weights as a serialized ONNX ModelProto: IR version 8, opset 17, the batch
 * dimension symbolic (`dim_param`), weights as little-endian `raw_data` initializers (only those
 * inference reads), and the graph's configuration in `metadata_props`.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { type Graph, IR_VERSION, type Tensor, type TensorType, weightsForGraph } from '@siamese/core';
import {
  type ModelProto,
  ModelProtoSchema,
  TensorShapeProto_DimensionSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from '../proto/onnx_pb.js';
import { packageVersion } from '../version.js';
import { LoweringContext } from './context.js';
import { foldBatchNorm } from './fold.js';
import { lowerGraph } from './graph.js';
import { ONNX_DTYPE } from './tensor.js';
import { OPSET } from './types.js';

/** ONNX IR version 8 (ONNX 1.10 to 1.12): what onnx 1.12's checker and onnxruntime >= 1.10 accept. */
export const ONNX_IR_VERSION = 8;
export const PRODUCER_NAME = '@siamese/backend-onnx';

/** metadata_props keys the exporter writes itself; callers may not reuse them. */
export const METADATA_KEYS = {
  /** core's graph IR version (`IR_VERSION`), as a decimal string. */
  irVersion: 'irVersion',
  /** The graph's `meta` (model config: resolved Siamese config, loss, ...) as JSON. */
  meta: 'meta',
  /** The core graph's name. */
  graph: 'graph',
} as const;

export interface ExportOptions {
  /**
   * Fold each eval-mode batchNorm that directly follows a convolution into that convolution's weight
   * and bias (outputs agree within float32 rounding; sessions start faster). Default true.
   */
  readonly foldBatchNorm?: boolean;
  /** Extra metadata_props, e.g. `preprocessing` and `threshold`; values that are not strings are stored as JSON. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /**
   * The pair cut's encoder: 'stacked' runs it once over both images (concatenated on the batch
   * axis), 'separate' once per image; 'auto' (default) stacks small images only
   * (`STACK_ENCODER_MAX_VALUES`), as measured fastest in onnxruntime on CPU.
   */
  readonly pairEncoder?: 'auto' | 'stacked' | 'separate';
  /** The model's doc_string. */
  readonly docString?: string;
}

/** Checks `weights` against the graph (every param present with its dtype and shape, nothing else) and exports. */
export function exportOnnx(
  graph: Graph,
  weights: ReadonlyMap<string, Tensor>,
  opts: ExportOptions = {},
): Uint8Array {
  const checked = weightsForGraph(graph, weights);
  const { graph: g, weights: w } =
    opts.foldBatchNorm === false ? { graph, weights: checked } : foldBatchNorm(graph, checked);
  const ctx = new LoweringContext();
  const outputs = lowerGraph(ctx, g, w);
  const types = new Map<string, TensorType>(Object.entries(g.values));
  for (const i of g.inputs) types.set(i.name, i);
  for (const p of g.params) types.set(p.name, p);
  return serializeModel(
    ctx,
    {
      graph,
      inputs: g.inputs.map((i) => valueInfo(i.name, i)),
      outputs: g.outputs.map((o) => valueInfo(outputs.get(o.name)!, types.get(o.value)!)),
    },
    opts,
  );
}

export interface ModelParts {
  /** The core graph the model comes from (name and meta go into the model). */
  readonly graph: Graph;
  /** The ONNX graph's name; default the core graph's. */
  readonly name?: string;
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  /** Exporter-owned metadata beyond METADATA_KEYS (e.g. which cut). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Wraps what a context holds into a ModelProto and serializes it. */
export function serializeModel(ctx: LoweringContext, parts: ModelParts, opts: ExportOptions): Uint8Array {
  ctx.finish(parts.outputs.map((o) => o.name));
  const model: ModelProto = create(ModelProtoSchema, {
    irVersion: BigInt(ONNX_IR_VERSION),
    opsetImport: [{ domain: '', version: BigInt(OPSET) }],
    producerName: PRODUCER_NAME,
    producerVersion: packageVersion(),
    docString: opts.docString ?? `${parts.graph.name}, exported by ${PRODUCER_NAME} for inference`,
    graph: {
      name: parts.name ?? parts.graph.name,
      node: ctx.nodes,
      initializer: ctx.initializers,
      input: [...parts.inputs],
      output: [...parts.outputs],
      docString: `core graph '${parts.graph.name}' lowered in eval mode to ONNX opset ${OPSET}`,
    },
    metadataProps: Object.entries(metadata(parts, opts.metadata ?? {})).map(([key, value]) => ({
      key,
      value,
    })),
  });
  return toBinary(ModelProtoSchema, model);
}

function metadata(parts: ModelParts, extra: Readonly<Record<string, unknown>>): Record<string, string> {
  const own: Record<string, string> = {
    [METADATA_KEYS.irVersion]: String(IR_VERSION),
    [METADATA_KEYS.graph]: parts.graph.name,
    [METADATA_KEYS.meta]: JSON.stringify(parts.graph.meta),
    ...parts.metadata,
  };
  for (const [key, value] of Object.entries(extra)) {
    if (Object.hasOwn(own, key)) throw new Error(`export: metadata key '${key}' is reserved by the exporter`);
    if (value === undefined) continue;
    own[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return own;
}

/** A float tensor's ValueInfo: numeric dimensions as dim_value, symbols (the batch `N`) as dim_param. */
export function valueInfo(name: string, t: TensorType): ValueInfoProto {
  const dim = t.shape.map((d) =>
    create(TensorShapeProto_DimensionSchema, {
      value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
    }),
  );
  return create(ValueInfoProtoSchema, {
    name,
    type: { value: { case: 'tensorType', value: { elemType: ONNX_DTYPE[t.dtype], shape: { dim } } } },
  });
}

/**
 * A Triton Inference Server model repository entry for an exported model:
 * `<dir>/<name>/config.pbtxt` and `<dir>/<name>/1/model.onnx`, both written atomically.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { writeFileAtomic } from '@siamese/core';
import { ModelProtoSchema, type ValueInfoProto } from '../proto/onnx_pb.js';

export interface TritonTensor {
  readonly name: string;
  /** Dimensions WITHOUT the batch dimension (Triton adds it when max_batch_size > 0). */
  readonly dims: readonly number[];
}

export interface TritonOptions {
  readonly inputs: readonly TritonTensor[];
  readonly outputs: readonly TritonTensor[];
  /** Largest batch Triton's dynamic batcher forms; at least 1 (every exported model has a batch axis). */
  readonly maxBatchSize: number;
  readonly instance: 'cpu' | 'gpu';
  /** Model instances per device. Default 1. */
  readonly count?: number;
}

export interface TritonPaths {
  readonly config: string;
  readonly model: string;
}

export async function tritonRepository(
  dir: string,
  name: string,
  modelBytes: Uint8Array,
  opts: TritonOptions,
): Promise<TritonPaths> {
  const config = tritonConfig(name, opts);
  const modelDir = join(dir, name, '1');
  await mkdir(modelDir, { recursive: true });
  const paths = { config: join(dir, name, 'config.pbtxt'), model: join(modelDir, 'model.onnx') };
  // The model first: a config never points at a half-written or missing model.
  await writeFileAtomic(paths.model, modelBytes);
  await writeFileAtomic(paths.config, new TextEncoder().encode(config));
  return paths;
}

/** The config.pbtxt text (protobuf text format of Triton's ModelConfig). */
export function tritonConfig(name: string, opts: TritonOptions): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
    throw new Error(
      `triton: model name '${name}' must be letters, digits, '_', '-' or '.' (it is a folder name)`,
    );
  }
  positiveInt('maxBatchSize', opts.maxBatchSize);
  const count = opts.count ?? 1;
  positiveInt('count', count);
  if (opts.instance !== 'cpu' && opts.instance !== 'gpu') {
    throw new Error(`triton: instance must be 'cpu' or 'gpu', got '${String(opts.instance)}'`);
  }
  if (opts.inputs.length === 0 || opts.outputs.length === 0)
    throw new Error('triton: needs inputs and outputs');
  for (const t of [...opts.inputs, ...opts.outputs]) {
    if (!t.dims.every((d) => Number.isInteger(d) && (d > 0 || d === -1))) {
      throw new Error(
        `triton: tensor '${t.name}' dims [${t.dims.join(', ')}] must be positive integers or -1`,
      );
    }
  }
  const tensors = (list: readonly TritonTensor[]): string =>
    list
      .map(
        (t) =>
          `  {\n    name: ${JSON.stringify(t.name)}\n    data_type: TYPE_FP32\n    dims: [ ${t.dims.join(', ')} ]\n  }`,
      )
      .join(',\n');
  return [
    `name: ${JSON.stringify(name)}`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${opts.maxBatchSize}`,
    `input [\n${tensors(opts.inputs)}\n]`,
    `output [\n${tensors(opts.outputs)}\n]`,
    'dynamic_batching { }',
    `instance_group [\n  {\n    kind: ${opts.instance === 'gpu' ? 'KIND_GPU' : 'KIND_CPU'}\n    count: ${count}\n  }\n]`,
    '',
  ].join('\n');
}

function positiveInt(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`triton: ${what} must be a positive integer, got ${v}`);
}

/** The inputs and outputs of a serialized model as Triton sees them: the leading (batch) dimension dropped. */
export function tritonTensors(modelBytes: Uint8Array): Pick<TritonOptions, 'inputs' | 'outputs'> {
  const graph = fromBinary(ModelProtoSchema, modelBytes).graph;
  const initializers = new Set(graph?.initializer.map((t) => t.name));
  const tensor = (v: ValueInfoProto): TritonTensor => {
    const t = v.type?.value;
    const dims = t?.case === 'tensorType' ? (t.value.shape?.dim ?? []) : [];
    if (dims[0]?.value.case !== 'dimParam') {
      throw new Error(`triton: '${v.name}' has no symbolic batch dimension to leave to Triton`);
    }
    const rest = dims.slice(1).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : -1));
    return { name: v.name, dims: rest };
  };
  return {
    inputs: (graph?.input ?? []).filter((v) => !initializers.has(v.name)).map(tensor),
    outputs: (graph?.output ?? []).map(tensor),
  };
}

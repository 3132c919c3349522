/**
 * Calibration: runs the fp32 model in onnxruntime (CPU) over preprocessed batches with every value
 * the QDQ rewrite will quantize added as a graph output, and reduces what it sees to one range per
 * value: min-max, a percentile, or TensorRT's entropy threshold. One pass over the batches, so a
 * generator that loads images lazily works; the result depends only on the data (no sampling).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import type { Tensor } from '@siamese/core';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { oneLine } from '../device.js';
import { ModelProtoSchema, TensorProto_DataType, ValueInfoProtoSchema } from '../proto/onnx_pb.js';
import { createSession, loadOrt } from '../session.js';
import { ValueCollector } from './collector.js';
import { entropyRange } from './entropy.js';
import { type GraphView, viewModel } from './graph.js';
import type { Range } from './params.js';
import { percentileRange } from './percentile.js';
import { planQdq, type QdqScope } from './plan.js';
import { type ActivationRanges, CALIBRATION_METHODS, type CalibrationMethod } from './ranges.js';

/** One batch: images [N, C, H, W] for a one-input model (an encoder cut), else a tensor per input name. */
export type CalibrationBatch = Tensor<'float32'> | Readonly<Record<string, Tensor<'float32'>>>;

export interface CalibrateOptions extends QdqScope {
  /** Default 'minmax'. */
  readonly method?: CalibrationMethod;
  /** 'percentile': the share of values kept, in percent (the rest is cut equally from both tails). Default 99.999. */
  readonly percentile?: number;
  /** 'percentile' and 'entropy': histogram bins per sign. Default 2048. */
  readonly bins?: number;
  /** onnxruntime's intra-op threads while observing; default its own choice (all cores). */
  readonly threads?: number;
  /** After each batch: batches done, and how many there are when `batches` is an array. */
  readonly onProgress?: (done: number, total?: number) => void;
}

export async function calibrate(
  model: Uint8Array,
  batches: Iterable<CalibrationBatch> | AsyncIterable<CalibrationBatch>,
  o: CalibrateOptions = {},
): Promise<ActivationRanges> {
  const method = o.method ?? 'minmax';
  if (!CALIBRATION_METHODS.includes(method)) {
    throw new Error(
      `calibrate: method must be one of ${CALIBRATION_METHODS.join(', ')}, got '${String(method)}'`,
    );
  }
  const percentile = o.percentile ?? 99.999;
  if (!(percentile > 0 && percentile <= 100)) {
    throw new Error(`calibrate: percentile must be in (0, 100], got ${percentile}`);
  }
  const bins = o.bins ?? 2048;
  if (!Number.isInteger(bins) || bins < 2 || bins % 2 !== 0) {
    throw new Error(`calibrate: bins must be an even integer >= 2, got ${bins}`);
  }
  const view = viewModel(model, 'calibrate');
  const targets = planQdq(view, 'calibrate', o.upTo ? { upTo: o.upTo } : {}).calibrated;
  const collectors = targets.map((t) => new ValueCollector(t, method === 'minmax' ? undefined : bins));
  const fetched = targets.filter((t) => !view.inputs.includes(t));
  const { session } = await createSession(observing(view, fetched), {
    device: 'cpu',
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
  });
  const total = Array.isArray(batches) ? batches.length : undefined;
  let done = 0;
  let images = 0;
  try {
    for await (const batch of batches) {
      const { feeds, items } = await feedsOf(batch, view.inputs, done);
      let out: InferenceSession.ReturnType;
      try {
        out = fetched.length > 0 ? await session.run(feeds, fetched) : {};
      } catch (e) {
        throw new Error(`calibrate: batch ${done} failed in onnxruntime: ${oneLine(e)}`);
      }
      for (const c of collectors) c.add((feeds[c.name] ?? out[c.name])!.data as Float32Array);
      images += items;
      done++;
      o.onProgress?.(done, total);
    }
  } finally {
    await session.release();
  }
  if (done === 0) throw new Error('calibrate: no batches; pass at least one batch of preprocessed images');
  const reduce = (c: ValueCollector): Range =>
    method === 'minmax'
      ? { min: c.min, max: c.max }
      : method === 'percentile'
        ? percentileRange(c, percentile)
        : entropyRange(c);
  return { method, images, ranges: new Map(collectors.map((c) => [c.name, reduce(c)])) };
}

/** The model with each value to observe added as a float graph output. */
function observing(view: GraphView, values: readonly string[]): Uint8Array {
  for (const name of values) {
    if (view.outputs.has(name)) continue;
    view.graph.output.push(
      create(ValueInfoProtoSchema, {
        name,
        type: { value: { case: 'tensorType', value: { elemType: TensorProto_DataType.FLOAT } } },
      }),
    );
  }
  return toBinary(ModelProtoSchema, view.model);
}

async function feedsOf(
  batch: CalibrationBatch,
  inputs: readonly string[],
  index: number,
): Promise<{ feeds: Record<string, OrtTensor>; items: number }> {
  const ort = await loadOrt();
  const named: Record<string, Tensor<'float32'>> = isTensor(batch)
    ? inputs.length === 1
      ? { [inputs[0]!]: batch }
      : failInputs(inputs, index)
    : { ...batch };
  const names = Object.keys(named);
  if (names.length !== inputs.length || !inputs.every((n) => n in named)) failInputs(inputs, index, names);
  let items = -1;
  const feeds = Object.fromEntries(
    inputs.map((name) => {
      const t = named[name]!;
      const size = t.shape.reduce((a, d) => a * d, 1);
      if (
        t.dtype !== 'float32' ||
        !(t.data instanceof Float32Array) ||
        t.data.length !== size ||
        size === 0
      ) {
        throw new Error(
          `calibrate: batch ${index}: '${name}' must be a non-empty float32 tensor whose data matches shape [${t.shape.join(',')}]`,
        );
      }
      if (items >= 0 && t.shape[0] !== items) {
        throw new Error(
          `calibrate: batch ${index}: inputs have different batch sizes (${items} and ${t.shape[0]})`,
        );
      }
      items = t.shape[0]!;
      return [name, new ort.Tensor('float32', t.data, [...t.shape])];
    }),
  );
  return { feeds, items };
}

function isTensor(b: CalibrationBatch): b is Tensor<'float32'> {
  return 'dtype' in b && 'shape' in b && 'data' in b && ArrayBuffer.isView((b as Tensor).data);
}

function failInputs(inputs: readonly string[], index: number, got?: readonly string[]): never {
  const want = inputs.map((n) => `'${n}'`).join(', ');
  throw new Error(
    got
      ? `calibrate: batch ${index} feeds ${got.map((n) => `'${n}'`).join(', ')} but the model's inputs are ${want}`
      : `calibrate: the model has inputs ${want}; pass each batch as { name: tensor }`,
  );
}

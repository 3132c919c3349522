/**
 * model.json's schema: every field's type and range, the preprocessing, and a config that
 * describes the graph. A file that passes can be used by every command without another check;
 * one that does not is one line naming the field (`threshold.probability must be a number in
 * [0, 1], got "high"`) before anything is printed or run.
 */
import { GraphError } from '../ir/errors.js';
import { deserialize } from '../ir/serialize.js';
import type { Graph } from '../ir/types.js';
import { isResNetPreset, RESNET_PRESETS, type ResNetConfig, resolveResNet } from '../nn/resnet.js';
import { COMBINE_MODES, resolveSiamese, type SiameseConfig } from '../nn/siamese.js';
import { configMismatch } from './agree.js';
import type { ModelArtifact, Threshold } from './model.js';
import { checkPreprocessing, type Preprocessing } from './preprocessing.js';
import { QUANTIZED_CUTS, type QuantizationRecord, type QuantizedCut } from './quantization.js';
import {
  boolean,
  type Check,
  FieldProblem,
  finite,
  isRecord,
  list,
  number,
  object,
  oneOf,
  optional,
  positiveInteger,
  problem,
  record,
  string,
} from './schema.js';

const resnetConfig = object({
  block: oneOf(['basic', 'bottleneck']),
  layers: list(positiveInteger, 4),
  groups: optional(positiveInteger),
  widthPerGroup: optional(positiveInteger),
  replaceStrideWithDilation: optional(list(boolean, 3)),
  zeroInitResidual: optional(boolean),
  inChannels: optional(positiveInteger),
  baseWidth: optional(positiveInteger),
});

const PRESETS = Object.keys(RESNET_PRESETS).join(', ');

const encoder: Check<ResNetConfig | string> = (v, path) => {
  if (typeof v === 'string') {
    return isResNetPreset(v) ? v : problem(path, `one of ${PRESETS} or a ResNet config object`, v);
  }
  if (!isRecord(v)) problem(path, `one of ${PRESETS} or a ResNet config object`, v);
  const c = resnetConfig(v, path) as unknown as ResNetConfig;
  try {
    resolveResNet(c); // torchvision's rules across fields (BasicBlock has no groups, ...)
  } catch (e) {
    throw new FieldProblem(`${path}: ${(e as Error).message.replace(/^resnet: /, '')}`);
  }
  return c;
};

const siameseConfig = object({
  encoder,
  input: object({ channels: positiveInteger, height: positiveInteger, width: positiveInteger }),
  combine: optional(oneOf(COMBINE_MODES)),
  head: optional(
    object({
      hidden: optional(list(positiveInteger)),
      dropout: optional(number(0, 1, { maxExcluded: true })),
    }),
  ),
  normalizeEmbeddings: optional(boolean),
});

/** Typed and ranged by checkPreprocessing, which saveModel also runs. */
const preprocessing: Check<Preprocessing> = (v, path) => {
  const p = record(v, path, ['channels', 'height', 'width', 'mean', 'std', 'resize', 'padColor']);
  const bad = checkPreprocessing(p as unknown as Preprocessing);
  if (bad) throw new FieldProblem(bad);
  return p as unknown as Preprocessing;
};

const threshold = object({
  // calibrateThreshold's "accept nothing" (a false-accept target no score meets) is 1 + EPSILON.
  probability: number(0, 1 + Number.EPSILON, { shownMax: 1 }),
  method: oneOf(['eer', 'far', 'fixed']),
  targetFar: optional(number(0, 1)),
});

const metrics: Check<Record<string, number>> = (v, path) => {
  if (!isRecord(v)) problem(path, 'an object of numbers', v);
  for (const [k, m] of Object.entries(v)) finite(m, `${path}.${k}`);
  return v as Record<string, number>;
};

/** A quantized file's fingerprint: loadModel refuses a file that does not match it. */
const fileEntry = object({
  sha256: (v, path) =>
    typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? v : problem(path, 'a sha256 hex digest', v),
  bytes: positiveInteger,
});

const quality = object({
  auc: number(0, 1),
  accuracy: number(0, 1),
  threshold: number(0, 1 + Number.EPSILON, { shownMax: 1 }),
});

/** model.json's `quantization`: the record, and the hashes of the files it names. */
const quantization = object({
  precision: oneOf(['int8']),
  files: object({ encoder: fileEntry, pair: optional(fileEntry) }),
  format: oneOf(['QDQ']),
  activations: oneOf(['uint8 asymmetric per tensor']),
  weights: oneOf(['int8 symmetric per channel']),
  calibration: object({ method: string, images: positiveInteger, data: string }),
  threshold: optional(threshold),
  comparison: object({
    data: string,
    pairs: positiveInteger,
    fp32: quality,
    int8: quality,
    aucDrop: finite,
    accuracyDrop: finite,
    maxAbsProbabilityDelta: number(0, 1),
    meanAbsProbabilityDelta: number(0, 1),
    targets: object({ aucDrop: finite, accuracyDrop: finite }),
    accepted: oneOf(['within-targets', 'accept-drop']),
  }),
});

/** model.json's `quantization` as read: the files still to be loaded and checked against their hashes. */
export interface QuantizationJson {
  readonly precision: 'int8';
  readonly files: Readonly<
    Partial<Record<QuantizedCut, { readonly sha256: string; readonly bytes: number }>>
  >;
  readonly record: QuantizationRecord;
}

const graph: Check<Graph> = (v, path) => {
  if (!isRecord(v)) problem(path, 'an object', v);
  try {
    return deserialize(v);
  } catch (e) {
    if (e instanceof GraphError) throw new FieldProblem(`${path}: ${e.message}`);
    throw e;
  }
};

const modelJson = object({
  format: string,
  formatVersion: finite,
  producer: optional(string),
  config: siameseConfig,
  preprocessing,
  // null: saved without a calibrated threshold.
  threshold: optional((v, path) => (v === null ? undefined : threshold(v, path))),
  metrics: optional(metrics),
  graph,
  // Where the model came from; its fields are the writer's business.
  provenance: optional((v, path) => (isRecord(v) ? v : problem(path, 'an object', v))),
  quantization: optional(quantization),
});

/**
 * The model without its weights, from parsed model.json whose `format` and `formatVersion` the
 * caller has checked; throws a FieldProblem for the first bad field.
 */
export function readModelJson(
  raw: unknown,
): Omit<ModelArtifact, 'weights' | 'quantization'> & { readonly quantization?: QuantizationJson } {
  const m = modelJson(raw, '');
  const config = m.config as SiameseConfig;
  const p = m.preprocessing;
  for (const k of ['channels', 'height', 'width'] as const) {
    if (p[k] !== config.input[k])
      throw new FieldProblem(`preprocessing.${k} is ${p[k]} but config.input.${k} is ${config.input[k]}`);
  }
  try {
    resolveSiamese(config);
  } catch (e) {
    throw new FieldProblem(`config: ${(e as Error).message.replace(/^siamese: /, '')}`);
  }
  const mismatch = configMismatch(m.graph, config);
  if (mismatch) throw new FieldProblem(mismatch);
  return {
    graph: m.graph,
    config,
    preprocessing: p,
    ...(m.threshold ? { threshold: m.threshold as Threshold } : {}),
    metrics: m.metrics ?? {},
    ...(m.provenance ? { provenance: m.provenance } : {}),
    ...(m.quantization ? { quantization: quantizationJson(m.quantization) } : {}),
  };
}

function quantizationJson(q: ReturnType<typeof quantization>): QuantizationJson {
  const { precision, files, ...record } = q;
  const known = Object.fromEntries(QUANTIZED_CUTS.flatMap((c) => (files[c] ? [[c, files[c]]] : [])));
  return { precision, files: known, record: record as QuantizationRecord };
}

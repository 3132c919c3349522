/**
 * Does model.json's config describe its graph? The graph is what runs; the config is what `info`
 * reports and what export and fine-tuning rebuild from. A config that disagrees with the graph
 * would have them describe or build another model, so the graph is rebuilt from the config (the
 * training graph for a checkpoint, whose graph carries its loss) and compared: the settings the
 * builder records (`meta.siamese`), the inputs, and the parameters by name, dtype and shape.
 * Nodes are not compared: a later version may build the same model with other nodes, while the
 * parameters (torchvision's names) are the contract.
 */
import { formatShape, shapesEqual } from '../ir/shape.js';
import type { Graph } from '../ir/types.js';
import type { LossConfig } from '../losses/index.js';
import { RESNET_PRESETS, type ResNetConfig, resolveResNet } from '../nn/resnet.js';
import { type ResolvedSiameseConfig, type SiameseConfig, siamese, siameseTraining } from '../nn/siamese.js';
import { isRecord } from './schema.js';

/** JSON with sorted keys: the same settings compare equal whatever order a file wrote them in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isRecord(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/** `resnet18`, or `a custom ResNet (bottleneck, layers 3-4-6-3)` for an encoder that is no preset. */
function encoderName(e: unknown): string {
  const r = e as Required<ResNetConfig>;
  for (const [name, preset] of Object.entries(RESNET_PRESETS)) {
    if (canonical(resolveResNet({ ...preset, inChannels: r.inChannels })) === canonical(e)) return name;
  }
  return isRecord(e) && Array.isArray(r.layers)
    ? `a custom ResNet (${r.block}, layers ${r.layers.join('-')})`
    : canonical(e);
}

function describe(key: keyof ResolvedSiameseConfig, v: unknown): string {
  if (key === 'encoder') return encoderName(v);
  if (key === 'input' && isRecord(v)) return `${v.channels}x${v.height}x${v.width}`;
  return canonical(v);
}

const SETTINGS = ['encoder', 'input', 'combine', 'head', 'normalizeEmbeddings'] as const;

/** The first way the graph differs from `config` (a checked one), as `<field> ...`; undefined when they agree. */
export function configMismatch(graph: Graph, config: SiameseConfig): string | undefined {
  const loss = graph.meta.loss;
  let expected: Graph;
  try {
    expected = loss === undefined ? siamese(config) : siameseTraining(config, loss as LossConfig);
  } catch (e) {
    return `graph.meta.loss is not a loss this version can build (${(e as Error).message})`;
  }
  const saved = graph.meta.siamese;
  const want = expected.meta.siamese as ResolvedSiameseConfig;
  if (isRecord(saved)) {
    // Keys an older builder did not record are not compared.
    for (const key of SETTINGS.filter((k) => k in saved)) {
      if (canonical(saved[key]) !== canonical(want[key])) {
        return `config.${key} says ${describe(key, want[key])} but the graph was built with ${describe(key, saved[key])}`;
      }
    }
  }
  for (const want of expected.inputs) {
    const got = graph.inputs.find((i) => i.name === want.name);
    if (!got || got.dtype !== want.dtype || !shapesEqual(got.shape, want.shape)) {
      const has = got ? `has ${got.dtype} ${formatShape(got.shape)}` : 'has no such input';
      return `config describes input '${want.name}' as ${want.dtype} ${formatShape(want.shape)} but the graph ${has}`;
    }
  }
  const params = new Map(graph.params.map((p) => [p.name, p]));
  for (const want of expected.params) {
    const got = params.get(want.name);
    if (!got) return `config describes parameter '${want.name}', which the graph does not have`;
    if (got.dtype !== want.dtype || !shapesEqual(got.shape, want.shape)) {
      return `config describes parameter '${want.name}' as ${want.dtype} ${formatShape(want.shape)} but the graph has ${got.dtype} ${formatShape(got.shape)}`;
    }
    params.delete(want.name);
  }
  const extra = params.keys().next();
  if (!extra.done) return `the graph has parameter '${extra.value}', which config does not describe`;
  return undefined;
}

/**
 * `siamese info`: architecture, parameters, buffers and multiply-adds of a trained model folder
 * (with its preprocessing, threshold and metrics), or of an architecture preset (`--arch`, or the
 * `model` section of siamese.config.json).
 */
import {
  COMBINE_MODES,
  type CombineMode,
  extract,
  formatSummary,
  type Graph,
  isResNetPreset,
  loadModel,
  type ModelArtifact,
  printGraph,
  RESNET_PRESETS,
  type SiameseConfig,
  siamese,
  summarize,
} from '@siamese/core';
import { configFor, setting } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { Output } from '../io.js';
import { comparisonLines } from '../quantize/format.js';
import { thresholdText } from './format.js';
import { configOption } from './options.js';
import { parseSize, positiveInt } from './parse.js';
import type { CommandDef, ParsedArgs } from './types.js';

const ARCH_FLAGS = ['arch', 'channels', 'size', 'combine'] as const;

export const info: CommandDef = {
  name: 'info',
  summary:
    'model summary: architecture, parameters, multiply-adds; a model folder also its preprocessing, threshold, metrics',
  positionals: ['[MODEL]'],
  options: {
    arch: {
      type: 'string',
      value: 'NAME',
      default: 'resnet18',
      config: 'model.arch',
      description: `encoder preset: ${Object.keys(RESNET_PRESETS).join(', ')}`,
    },
    channels: {
      type: 'string',
      value: 'C',
      default: '1',
      config: 'model.input.channels',
      description: 'image channels (1 grayscale, 3 RGB)',
    },
    size: {
      type: 'string',
      value: 'N|HxW',
      default: '105',
      config: 'model.input',
      description: 'image size',
    },
    combine: {
      type: 'string',
      value: 'MODE',
      default: 'absdiff',
      config: 'model.combine',
      description: `how embeddings meet: ${COMBINE_MODES.join(', ')}`,
    },
    batch: { type: 'string', value: 'N', default: '1', description: 'batch size for the multiply-add count' },
    graph: { type: 'boolean', default: false, description: 'also print the graph IR as text' },
    json: { type: 'boolean', default: false, description: 'print the summary as JSON' },
    config: configOption,
  },
  details:
    'With MODEL (a folder with model.json and weights.safetensors) the summary is of that model; without it, of the architecture the flags (or the config file) describe.',
  examples: [
    'siamese info runs/mnist/model',
    'siamese info --arch resnet50 --channels 3 --size 224 --combine diff',
    'siamese info --arch resnet10_w8 --size 28 --graph',
  ],
  async run(args, io) {
    const batch = positiveInt('batch', String(args.values.batch));
    const [dir] = args.positionals;
    if (dir !== undefined) {
      const flag = ARCH_FLAGS.find((f) => args.given.has(f));
      if (flag)
        throw new UsageError(
          `--${flag} describes an architecture; a model folder has its own (drop --${flag} or MODEL)`,
        );
      await modelInfo(dir, batch, args, io);
      return;
    }
    await archInfo(args, batch, io);
  },
};

async function archInfo(args: ParsedArgs, batch: number, io: Output): Promise<void> {
  const m = (await configFor(args)).config.model ?? {};
  const arch = String(setting(args, 'arch', m.arch));
  const combine = String(setting(args, 'combine', m.combine));
  if (!isResNetPreset(arch)) {
    throw new UsageError(
      `--arch '${arch}' is not a known architecture (known: ${Object.keys(RESNET_PRESETS).join(', ')})`,
    );
  }
  if (!(COMBINE_MODES as readonly string[]).includes(combine)) {
    throw new UsageError(`--combine '${combine}' is not one of ${COMBINE_MODES.join(', ')}`);
  }
  const fromConfig =
    m.input?.height !== undefined || m.input?.width !== undefined
      ? `${m.input.height ?? m.input.width}x${m.input.width ?? m.input.height}`
      : undefined;
  const { height, width } = parseSize(String(setting(args, 'size', fromConfig)));
  const channels = positiveInt('channels', String(setting(args, 'channels', m.input?.channels)));
  const config: SiameseConfig = {
    encoder: arch,
    input: { channels, height, width },
    combine: combine as CombineMode,
    ...(m.head ? { head: m.head } : {}),
    ...(m.normalizeEmbeddings !== undefined ? { normalizeEmbeddings: m.normalizeEmbeddings } : {}),
  };
  const graph = siamese(config);
  const summary = summarize(graph, { N: batch });
  if (args.values.json) {
    io.out(JSON.stringify({ arch, input: { channels, height, width }, combine, ...summary }, null, 2));
    return;
  }
  io.out(`Siamese ${arch}, ${channels}x${height}x${width} images, combine ${combine}, batch ${batch}`);
  io.out(formatSummary(graph, summary));
  if (args.values.graph) io.out(printGraph(graph));
}

function archName(c: SiameseConfig): string {
  if (typeof c.encoder === 'string') return c.encoder;
  const e = c.encoder;
  return `custom ResNet (${e.block}, layers ${e.layers.join('-')}${e.baseWidth ? `, base width ${e.baseWidth}` : ''})`;
}

/** The encoder alone (`x1` to `embeddingA`): the cost of embedding one image. */
function encoderGraph(graph: Graph): Graph {
  return extract(graph, {
    name: `${graph.name}_encoder`,
    inputs: [{ name: 'image', value: 'x1' }],
    outputs: [{ name: 'embedding', value: 'embeddingA' }],
  });
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(3)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(3)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(3)} K`;
  return String(n);
}

async function modelInfo(dir: string, batch: number, args: ParsedArgs, io: Output): Promise<void> {
  const model = await loadModel(dir);
  const { graph, config, preprocessing: p, threshold, metrics } = model;
  const summary = summarize(graph, { N: batch });
  const encoderFlops = summarize(encoderGraph(graph), { N: 1 }).flops;
  const arch = archName(config);
  const combine = config.combine ?? 'absdiff';
  if (args.values.json) {
    io.out(
      JSON.stringify(
        {
          model: dir,
          arch,
          config,
          preprocessing: p,
          threshold: threshold ?? null,
          precision: model.quantization?.precision ?? 'fp32',
          ...(model.quantization ? { quantization: model.quantization.record } : {}),
          metrics: metrics ?? {},
          ...(model.provenance ? { provenance: model.provenance } : {}),
          ...summary,
          encoderFlopsPerImage: encoderFlops,
        },
        null,
        2,
      ),
    );
    return;
  }
  io.out(
    `Siamese ${arch}, ${p.channels}x${p.height}x${p.width} images, combine ${combine}, batch ${batch} (model ${dir})`,
  );
  io.out(formatSummary(graph, summary));
  io.out(
    `  encoder     ${human(encoderFlops)} multiply-adds per image (what embed and search pay per image)`,
  );
  io.out(
    `preprocessing ${p.channels === 1 ? 'grayscale' : p.channels === 3 ? 'RGB' : `${p.channels} channels`} ${p.height}x${p.width}, resize ${p.resize}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]`,
  );
  io.out(
    `threshold   ${threshold ? thresholdText(threshold) : 'none (not calibrated: compare gives probabilities without a decision)'}${model.quantization ? ' (fp32)' : ''}`,
  );
  for (const line of precisionLines(model)) io.out(line);
  const entries = Object.entries(metrics ?? {});
  io.out(
    `metrics     ${entries.length ? entries.map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', ') : 'none recorded'}`,
  );
  for (const line of provenanceLines(model.provenance)) io.out(line);
  if (args.values.graph) io.out(printGraph(graph));
}

/** fp32, or how the int8 cuts were made and what they cost against fp32. */
function precisionLines(model: ModelArtifact): string[] {
  const q = model.quantization;
  if (!q) return ['precision   fp32'];
  const r = q.record;
  const cuts = (['encoder', 'pair'] as const).filter((c) => q.onnx[c]).join(' and ');
  return [
    `precision   int8, ${r.format} (activations ${r.activations}, weights ${r.weights}); ${cuts} cuts in int8, the head in fp32; every command runs it`,
    `calibrated  ${r.calibration.method} on ${r.calibration.images} images: ${r.calibration.data}`,
    `int8 threshold ${r.threshold ? thresholdText(r.threshold) : 'none'}`,
    `int8 vs fp32 on ${r.comparison.data}:`,
    ...comparisonLines(r.comparison),
  ];
}

/** Where a trained model came from, as `siamese train` records it in model.json. */
function provenanceLines(p: Readonly<Record<string, unknown>> | undefined): string[] {
  if (!p) return [];
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const lines: string[] = [];
  const data = p.data as { description?: unknown; split?: unknown } | undefined;
  const versions = p.versions as Record<string, unknown> | undefined;
  if (p.runId !== undefined)
    lines.push(`run         ${text(p.runId)}${p.created ? `, trained ${text(p.created)}` : ''}`);
  if (Array.isArray(p.commands)) {
    for (const [i, c] of p.commands.entries())
      if (Array.isArray(c))
        lines.push(`${i === 0 ? 'command    ' : 'resumed    '} siamese ${c.map(text).join(' ')}`);
  }
  if (data?.description !== undefined)
    lines.push(`data        ${text(data.description)}${data.split ? ` (split ${text(data.split)})` : ''}`);
  if (p.backend !== undefined)
    lines.push(
      `trained on  ${text(p.backend)}${p.device ? `; ${text(p.device)}` : ''}${p.seed !== undefined ? `; seed ${text(p.seed)}` : ''}`,
    );
  if (versions)
    lines.push(
      `versions    ${Object.entries(versions)
        .map(([k, v]) => `${k} ${text(v)}`)
        .join(', ')}`,
    );
  return lines;
}

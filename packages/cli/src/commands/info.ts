/**
 * `siamese info`: architecture, parameters, buffers and multiply-adds of a Siamese model built
 * from an architecture preset (a trained model folder will be accepted here too once artifacts exist).
 */
import {
  COMBINE_MODES,
  type CombineMode,
  formatSummary,
  isResNetPreset,
  printGraph,
  RESNET_PRESETS,
  siamese,
  summarize,
} from '@siamese/core';
import { UsageError } from '../errors.js';
import { parseSize, positiveInt } from './parse.js';
import type { CommandDef } from './types.js';

export const info: CommandDef = {
  name: 'info',
  summary: 'model summary: architecture, parameters, multiply-adds per op',
  options: {
    arch: {
      type: 'string',
      value: 'NAME',
      default: 'resnet18',
      description: `encoder preset: ${Object.keys(RESNET_PRESETS).join(', ')}`,
    },
    channels: {
      type: 'string',
      value: 'C',
      default: '1',
      description: 'image channels (1 grayscale, 3 RGB)',
    },
    size: { type: 'string', value: 'N|HxW', default: '105', description: 'image size' },
    combine: {
      type: 'string',
      value: 'MODE',
      default: 'absdiff',
      description: `how embeddings meet: ${COMBINE_MODES.join(', ')}`,
    },
    batch: { type: 'string', value: 'N', default: '1', description: 'batch size for the multiply-add count' },
    graph: { type: 'boolean', default: false, description: 'also print the graph IR as text' },
    json: { type: 'boolean', default: false, description: 'print the summary as JSON' },
  },
  examples: [
    'siamese info --arch resnet50 --channels 3 --size 224 --combine diff',
    'siamese info --arch resnet10_w8 --size 28 --graph',
  ],
  run({ values }, io) {
    const arch = String(values.arch);
    const combine = String(values.combine);
    if (!isResNetPreset(arch)) {
      throw new UsageError(
        `--arch '${arch}' is not a known architecture (known: ${Object.keys(RESNET_PRESETS).join(', ')})`,
      );
    }
    if (!(COMBINE_MODES as readonly string[]).includes(combine)) {
      throw new UsageError(`--combine '${combine}' is not one of ${COMBINE_MODES.join(', ')}`);
    }
    const { height, width } = parseSize(String(values.size));
    const channels = positiveInt('channels', String(values.channels));
    const batch = positiveInt('batch', String(values.batch));
    const graph = siamese({
      encoder: arch,
      input: { channels, height, width },
      combine: combine as CombineMode,
    });
    const summary = summarize(graph, { N: batch });
    if (values.json) {
      io.out(JSON.stringify({ arch, input: { channels, height, width }, combine, ...summary }, null, 2));
      return;
    }
    io.out(`Siamese ${arch}, ${channels}x${height}x${width} images, combine ${combine}, batch ${batch}`);
    io.out(formatSummary(graph, summary));
    if (values.graph) io.out(printGraph(graph));
  },
};

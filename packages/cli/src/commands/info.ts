/**
 * `siamese info`: architecture, parameters, buffers and multiply-adds of a Siamese model built
 * from an architecture preset (a trained model folder will be accepted here too once artifacts exist).
 */
import { parseArgs } from 'node:util';
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
import type { Output } from '../io.js';

export const INFO_HELP = `siamese info [--arch resnet18] [--channels 1] [--size 105] [--combine absdiff] [--batch 1] [--graph] [--json]

  --arch      encoder preset: ${Object.keys(RESNET_PRESETS).join(', ')}
  --channels  image channels (1 grayscale, 3 RGB)
  --size      image size, N or HxW
  --combine   ${COMBINE_MODES.join(', ')}
  --batch     batch size for the multiply-add count
  --graph     also print the graph IR as text
  --json      print the summary as JSON`;

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, got '${v}'`);
  return n;
}

export function parseSize(v: string): { height: number; width: number } {
  const m = /^(\d+)(?:x(\d+))?$/.exec(v);
  if (!m) throw new UsageError(`--size must be N or HxW (e.g. 105 or 105x105), got '${v}'`);
  const height = positiveInt('size', m[1]!);
  return { height, width: m[2] ? positiveInt('size', m[2]) : height };
}

export function info(argv: string[], io: Output): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      arch: { type: 'string', default: 'resnet18' },
      channels: { type: 'string', default: '1' },
      size: { type: 'string', default: '105' },
      combine: { type: 'string', default: 'absdiff' },
      batch: { type: 'string', default: '1' },
      graph: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!isResNetPreset(values.arch)) {
    throw new UsageError(
      `--arch '${values.arch}' is not a known architecture (known: ${Object.keys(RESNET_PRESETS).join(', ')})`,
    );
  }
  if (!(COMBINE_MODES as readonly string[]).includes(values.combine)) {
    throw new UsageError(`--combine '${values.combine}' is not one of ${COMBINE_MODES.join(', ')}`);
  }
  const { height, width } = parseSize(values.size);
  const channels = positiveInt('channels', values.channels);
  const batch = positiveInt('batch', values.batch);
  const graph = siamese({
    encoder: values.arch,
    input: { channels, height, width },
    combine: values.combine as CombineMode,
  });
  const summary = summarize(graph, { N: batch });
  if (values.json) {
    io.out(
      JSON.stringify(
        { arch: values.arch, input: { channels, height, width }, combine: values.combine, ...summary },
        null,
        2,
      ),
    );
    return;
  }
  io.out(
    `Siamese ${values.arch}, ${channels}x${height}x${width} images, combine ${values.combine}, batch ${batch}`,
  );
  io.out(formatSummary(graph, summary));
  if (values.graph) io.out(printGraph(graph));
}

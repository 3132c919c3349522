/** Options several commands share, declared once so that help and the docs agree everywhere. */
import { type LoadedConfig, setting } from '../config/load.js';
import { INFER_DEVICES } from '../config/siamese-config.js';
import { UsageError } from '../errors.js';
import type { DataRequest } from '../infer/data.js';
import { oneOfFlag, positiveInt, str } from './parse.js';
import type { OptionDef, ParsedArgs } from './types.js';

export const configOption: OptionDef = {
  type: 'string',
  value: 'FILE',
  description: 'settings file (default: siamese.config.json in the working directory, when there is one)',
};

export const jsonOption: OptionDef = { type: 'boolean', default: false, description: 'print JSON' };

/** onnxruntime's device, threads and batch size: compare, embed, search, eval. */
export const inferOptions = {
  device: {
    type: 'string',
    value: INFER_DEVICES.join('|'),
    default: 'auto',
    config: 'infer.device',
    description:
      'where onnxruntime runs: auto (CUDA when it works, else CPU), cuda (never falls back) or cpu',
  },
  threads: {
    type: 'string',
    value: 'N',
    config: 'infer.threads',
    description: 'onnxruntime threads per operator; all cores when not set',
  },
  'batch-size': {
    type: 'string',
    value: 'N',
    default: '32',
    config: 'infer.batchSize',
    description: 'images per onnxruntime run',
  },
  config: configOption,
} as const satisfies Record<string, OptionDef>;

/** Where the images come from: eval and embed. */
export const dataOptions = {
  data: {
    type: 'string',
    value: 'SOURCE',
    config: 'data.source',
    description:
      "'mnist' (built in), a folder (a folder per class, or Omniglot's alphabet/character tree) or a CSV of pairs 'a,b,label'",
  },
  split: {
    type: 'string',
    value: 'FILE',
    config: 'data.split',
    description: 'a split manifest (written by training): use one part of the data',
  },
  part: {
    type: 'string',
    value: 'train|val|test',
    default: 'test',
    config: 'data.part',
    description: 'the part of --split to use',
  },
} as const satisfies Record<string, OptionDef>;

export interface InferSettings {
  readonly device: (typeof INFER_DEVICES)[number];
  readonly threads?: number;
  readonly batchSize: number;
}

/** Flags over siamese.config.json's `infer` over defaults. */
export function inferSettings(args: ParsedArgs, loaded: LoadedConfig): InferSettings {
  const c = loaded.config.infer ?? {};
  const device = oneOfFlag('device', String(setting(args, 'device', c.device)), INFER_DEVICES);
  const threads = setting(args, 'threads', c.threads);
  const batchSize = positiveInt('batch-size', String(setting(args, 'batch-size', c.batchSize)));
  return {
    device,
    ...(typeof threads === 'string' ? { threads: positiveInt('threads', threads) } : {}),
    batchSize,
  };
}

/**
 * The data source: FOLDER (embed's positional), else --data, else the config's data.source. The
 * config's split and part go with the config's source only: a source named on the command line
 * takes the split named there too.
 */
export function dataSettings(
  args: ParsedArgs,
  loaded: LoadedConfig,
  folder?: string,
): Pick<DataRequest, 'source' | 'split' | 'part'> | undefined {
  const c = loaded.config.data ?? {};
  const fromCommandLine = folder !== undefined || args.given.has('data');
  const source = folder ?? str(setting(args, 'data', c.source));
  if (source === undefined) return undefined;
  const split = fromCommandLine ? str(args.values.split) : str(setting(args, 'split', c.split));
  if (args.given.has('part') && split === undefined) throw new UsageError('--part needs --split FILE');
  if (split === undefined) return { source };
  const part = fromCommandLine ? String(args.values.part) : String(setting(args, 'part', c.part));
  return { source, split, part: oneOfFlag('part', part, ['train', 'val', 'test'] as const) };
}

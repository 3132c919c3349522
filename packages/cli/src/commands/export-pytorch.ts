/**
 * `siamese export MODEL --format pytorch --out DIR` (or `--arch NAME` with no trained model): a
 * self-contained PyTorch package generated from the model's graph IR by @siamese/backend-torch,
 * for training beyond one machine with torchrun; `siamese import` brings the weights back.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  COMBINE_MODES,
  type CombineMode,
  defaultPreprocessing,
  initWeights,
  isResNetPreset,
  loadModel,
  type ModelArtifact,
  RESNET_PRESETS,
  replaceFolder,
  type SiameseConfig,
  siamese,
  siameseTraining,
} from '@siamese/core';
import { configFor, setting } from '../config/load.js';
import type { SiameseConfig as ConfigFile } from '../config/siamese-config.js';
import { UsageError } from '../errors.js';
import type { Output } from '../io.js';
import { nonNegativeInt, oneOfFlag, parseSize } from './parse.js';
import type { OptionDef, ParsedArgs } from './types.js';

/** The losses the generated train.py trains (pair losses; its sampler makes pairs). */
export const PYTORCH_LOSSES = ['bce', 'contrastive'] as const;

/** Options only `--format pytorch` reads. */
export const pytorchOptions = {
  arch: {
    type: 'string',
    value: 'NAME',
    config: 'model.arch',
    description:
      '--format pytorch without MODEL: the architecture to export untrained (seeded initialization)',
  },
  channels: {
    type: 'string',
    value: '1|3',
    config: 'model.input.channels',
    description: 'with --arch: 1 or 3 (default 3)',
  },
  size: {
    type: 'string',
    value: 'N|HxW',
    config: 'model.input',
    description: 'with --arch: image size (default 105)',
  },
  combine: {
    type: 'string',
    value: 'MODE',
    config: 'model.combine',
    description: `with --arch: ${COMBINE_MODES.join(', ')} (default absdiff)`,
  },
  loss: {
    type: 'string',
    value: PYTORCH_LOSSES.join('|'),
    config: 'train.loss',
    description:
      '--format pytorch: the loss train.py trains (default bce; contrastive needs combine euclidean)',
  },
} as const satisfies Record<string, OptionDef>;

/** What `--format pytorch` reads besides its own options; every other export flag is ONNX's. */
const PYTORCH_SHARED_FLAGS = ['format', 'out', 'seed', 'config', 'help', 'verbose'];
/** Options that describe the model to build from --arch; a model folder has its own. */
const ARCH_FLAGS = ['channels', 'size', 'combine'] as const;

/** One line for the first flag `--format pytorch` does not take. */
function checkFlags(dir: string | undefined, args: ParsedArgs): void {
  const allowed = new Set([...PYTORCH_SHARED_FLAGS, ...Object.keys(pytorchOptions)]);
  const onnx = [...args.given].find((f) => !allowed.has(f));
  if (onnx !== undefined)
    throw new UsageError(`--${onnx} is for ONNX export; --format pytorch does not take it`);
  if (dir !== undefined) {
    const arch = ARCH_FLAGS.find((f) => args.given.has(f));
    if (arch !== undefined)
      throw new UsageError(`--${arch} is for --arch (an untrained model); a model folder has its own`);
  }
}

/** Top-level names a previous export has (PYTORCH_FILES' first parts, its weights, Python's cache). */
function isExportFile(name: string, files: readonly string[]): boolean {
  return (
    name === 'weights.safetensors' || name === '__pycache__' || files.some((f) => f.split('/')[0] === name)
  );
}

/** The model to export: a model folder's, or a fresh one from --arch. */
async function source(
  dir: string | undefined,
  args: ParsedArgs,
  file: ConfigFile,
): Promise<ModelArtifact & { from: string }> {
  if (dir !== undefined) {
    if (args.given.has('arch'))
      throw new UsageError('--arch is for exporting without MODEL; a model folder has its own');
    return { ...(await loadModel(dir)), from: dir };
  }
  const m = file.model ?? {};
  const arch = setting(args, 'arch', m.arch);
  if (arch === undefined)
    throw new UsageError('--format pytorch needs MODEL (a model folder) or --arch NAME (an untrained model)');
  if (!isResNetPreset(String(arch)))
    throw new UsageError(
      `--arch '${arch}' is not a known architecture (known: ${Object.keys(RESNET_PRESETS).join(', ')})`,
    );
  const channels = Number(setting(args, 'channels', m.input?.channels) ?? 3);
  if (channels !== 1 && channels !== 3)
    throw new UsageError(`--channels must be 1 (grayscale) or 3 (RGB), got '${channels}'`);
  const size = setting(args, 'size', m.input ? `${m.input.height}x${m.input.width}` : undefined);
  const { height, width } = parseSize(String(size ?? '105'));
  const combine = oneOfFlag(
    'combine',
    String(setting(args, 'combine', m.combine) ?? 'absdiff'),
    COMBINE_MODES,
  );
  const config: SiameseConfig = {
    encoder: String(arch),
    input: { channels, height, width },
    combine: combine as CombineMode,
    ...(m.head ? { head: m.head } : {}),
    ...(m.normalizeEmbeddings !== undefined ? { normalizeEmbeddings: m.normalizeEmbeddings } : {}),
  };
  const graph = siamese(config);
  const seed = args.given.has('seed')
    ? nonNegativeInt('seed', String(args.values.seed))
    : (file.train?.seed ?? 1);
  return {
    graph,
    config,
    preprocessing: defaultPreprocessing(config.input),
    weights: initWeights(graph, seed),
    from: `--arch ${arch} (seed ${seed})`,
  };
}

/**
 * --out: a new folder, an empty one, or a previous export to replace (whole: it is swapped for the
 * new one, so it must hold nothing but an export's files, such as a run folder).
 */
async function outFolder(out: string | undefined, files: readonly string[]): Promise<string> {
  if (out === undefined)
    throw new UsageError('--format pytorch needs --out DIR (the folder to write the package to)');
  const info = await stat(out).catch(() => undefined);
  if (!info) return out;
  if (!info.isDirectory())
    throw new UsageError(`--out '${out}' is a file; name a folder for the PyTorch package`);
  const names = await readdir(out);
  if (names.length > 0 && !(names.includes('train.py') && names.includes('siamese_model'))) {
    throw new UsageError(
      `--out '${out}' is a folder with other files in it; name a new folder (or a previous export to replace)`,
    );
  }
  const other = names.find((n) => !isExportFile(n, files));
  if (other !== undefined)
    throw new UsageError(
      `--out '${out}' is a previous export with other files in it ('${other}'), which replacing it would delete; move them or name a new folder`,
    );
  return out;
}

export async function exportPytorch(dir: string | undefined, args: ParsedArgs, io: Output): Promise<void> {
  const loaded = await configFor(args);
  const file = loaded.config;
  checkFlags(dir, args);
  const torch = await import('@siamese/backend-torch');
  const out = await outFolder(
    args.values.out === undefined ? undefined : String(args.values.out),
    torch.PYTORCH_FILES,
  );
  const model = await source(dir, args, file);
  const loss = oneOfFlag('loss', String(setting(args, 'loss', file.train?.loss) ?? 'bce'), PYTORCH_LOSSES);
  const combine = model.config.combine ?? 'absdiff';
  if (loss === 'contrastive' && combine !== 'euclidean')
    throw new UsageError(
      `--loss contrastive trains the embedding distance: the model's combine must be euclidean, not ${combine}`,
    );
  const encoder = typeof model.config.encoder === 'string' ? model.config.encoder : undefined;
  const settings = {
    ...(file.data?.source ? { data: { source: file.data.source } } : {}),
    model: {
      ...(encoder && isResNetPreset(encoder) ? { arch: encoder } : {}),
      input: model.config.input,
      combine,
      ...(model.config.head ? { head: model.config.head } : {}),
      ...(model.config.normalizeEmbeddings !== undefined
        ? { normalizeEmbeddings: model.config.normalizeEmbeddings }
        : {}),
    },
    train: { ...(file.train ?? {}), loss },
  };
  let files: Map<string, string | Uint8Array>;
  try {
    files = torch.pytorchPackage({
      inference: model.graph,
      training: siameseTraining(model.config, { kind: loss }),
      preprocessing: model.preprocessing,
      config: settings,
      weights: model.weights,
      source: model.from,
    });
  } catch (e) {
    throw new UsageError(`--format pytorch: ${(e as Error).message}`);
  }
  // Written to a fresh folder swapped in whole: an interrupted export leaves the old package or
  // the new one, never a mix, and no file of the old one lingers.
  await replaceFolder(out, async (tmp) => {
    for (const [name, content] of files) {
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), content);
    }
  });
  io.out(
    `wrote ${out} (PyTorch package from ${model.from}: siamese_model/ generated from IR, train.py for torchrun, ${files.size} files)`,
  );
  const train = join(out, 'train.py');
  io.out(`train: torchrun --redirects 2 --tee 2 --nproc_per_node 2 ${train} --data IMAGES --out RUN`);
  io.out(
    `       (several machines: --nnodes N --rdzv_backend c10d --rdzv_endpoint HOST:29400 --rdzv_id JOB; see ${join(out, 'README.md')})`,
  );
  io.out(`back:  siamese import RUN --out MODEL`);
}

/** `siamese export MODEL --format onnx`: an ONNX file (and optionally a Triton model repository). */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  loadModel,
  MODEL_FILE,
  type Preprocessing,
  quantizedFile,
  saveModel,
  writeFileAtomic,
} from '@siamese/core';
import { configFor } from '../config/load.js';
import { UsageError } from '../errors.js';
import { quantizeInt8 } from '../quantize/export-int8.js';
import { exportPytorch, pytorchOptions } from './export-pytorch.js';
import { exportWeb } from './export-web.js';
import { bytes } from './format.js';
import { inferOptions, inferSettings } from './options.js';
import { nonNegativeInt, oneOfFlag, positiveInt, str } from './parse.js';
import type { CommandDef, ParsedArgs } from './types.js';

const FORMATS = ['onnx', 'pytorch'] as const;
const CUTS = ['pair', 'encoder', 'head'] as const;
const INSTANCES = ['cpu', 'gpu'] as const;
const PRECISIONS = ['int8'] as const;
const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
/** Flags that only mean something with --quantize. */
const QUANTIZE_FLAGS = [
  'calibrate',
  'calibration-images',
  'calibration-method',
  'split',
  'pairs',
  'seed',
  'accept-drop',
] as const;

const CUT_TEXT: Record<(typeof CUTS)[number], string> = {
  pair: 'x1, x2 images -> logit, probability',
  encoder: 'image -> embedding',
  head: 'embeddingA, embeddingB -> logit, probability',
};

export const exportCommand: CommandDef = {
  name: 'export',
  summary:
    'export a model to ONNX (pair, encoder or head), optionally as a Triton model repository; an int8 model calibrated on real images; a web page (--web); or a PyTorch package (--format pytorch)',
  positionals: ['[MODEL]'],
  options: {
    format: {
      type: 'string',
      value: FORMATS.join('|'),
      default: 'onnx',
      description:
        'output format (onnx: IR 8, opset 17; pytorch: a Python package with the model, loss and a torchrun train.py)',
    },
    cut: {
      type: 'string',
      value: CUTS.join('|'),
      default: 'pair',
      description:
        'pair: two images to a probability; encoder: image to embedding; head: two embeddings to a probability',
    },
    out: {
      type: 'string',
      value: 'FILE',
      description:
        'the .onnx file (default: MODEL/<cut>.onnx unless --triton); with --quantize, the int8 model folder (default: MODEL-int8)',
    },
    triton: {
      type: 'string',
      value: 'DIR',
      description: 'also write a Triton model repository: DIR/<name>/config.pbtxt and 1/model.onnx',
    },
    name: {
      type: 'string',
      value: 'NAME',
      description: 'model name in the Triton repository (default: siamese_<cut>)',
    },
    instance: {
      type: 'string',
      value: INSTANCES.join('|'),
      default: 'cpu',
      description: 'Triton instance kind',
    },
    'max-batch': {
      type: 'string',
      value: 'N',
      default: '64',
      description: "largest batch Triton's dynamic batcher forms",
    },
    web: {
      type: 'string',
      value: 'DIR',
      description:
        "write a static web folder instead: a page that scores, enrols and searches in the browser (@siamese/web, onnxruntime-web), with the model and onnxruntime-web's files",
    },
    'no-fold': {
      type: 'boolean',
      default: false,
      description: 'keep BatchNorm nodes instead of folding them into the convolutions',
    },
    quantize: {
      type: 'string',
      value: PRECISIONS.join('|'),
      description:
        'write an int8 model folder (QDQ: uint8 activations, int8 per-channel weights) that every command runs without a flag',
    },
    calibrate: {
      type: 'string',
      value: 'DATA',
      description:
        "images to calibrate on, as --data takes them ('mnist', a folder, a CSV of pairs); a split's validation part, never its test part",
    },
    'calibration-images': {
      type: 'string',
      value: 'N',
      default: '512',
      description: 'images the activation ranges are observed on',
    },
    'calibration-method': {
      type: 'string',
      value: CALIBRATION_METHODS.join('|'),
      default: 'minmax',
      description:
        'how a range is read from what was observed: min-max, a percentile, or the entropy (KL) threshold',
    },
    split: {
      type: 'string',
      value: 'FILE',
      description:
        "the split manifest of --calibrate's data (default: the model's own split.json when DATA is its training data)",
    },
    pairs: {
      type: 'string',
      value: 'N',
      default: '1000',
      description: 'pairs that re-fit the int8 threshold, and held-out pairs that compare int8 with fp32',
    },
    seed: { type: 'string', value: 'N', default: '0', description: 'seeds which images and pairs are used' },
    'accept-drop': {
      type: 'boolean',
      default: false,
      description: 'write the int8 model even when it costs more than AUC 0.002 or 0.5 accuracy points',
    },
    ...inferOptions,
    ...pytorchOptions,
  },
  details:
    "Every file is written atomically (a temporary file, then a rename): an interrupted export leaves the old file or none. The ONNX metadata carries the model's preprocessing and threshold. With --quantize int8 the export calibrates the encoder on --calibrate's images, compares int8 with fp32 on held-out pairs (ROC AUC, accuracy, probability differences), re-fits the threshold for int8 and writes a model folder whose encoder and pair cuts are int8 (the head stays fp32); it refuses a model that loses more than 0.002 AUC or 0.5 accuracy points unless --accept-drop. An int8 model folder exports its int8 cuts without --quantize. With --web DIR the export writes a static web folder instead: a page that scores two dropped images and enrols and searches a few (@siamese/web on onnxruntime-web), model/ with the encoder and head and a manifest (preprocessing, threshold, precision, SHA-256 of each file), onnxruntime-web's files in ort/, and serve.json and _headers with the cross-origin isolation headers that wasm threads need; the folder is swapped in whole.",
  examples: [
    'siamese export runs/mnist/model --format onnx',
    'siamese export model --cut encoder --out encoder.onnx',
    'siamese export model --triton models --instance gpu --max-batch 128',
    'siamese export runs/mnist/model --quantize int8 --calibrate mnist --out runs/mnist/model-int8',
    'siamese export runs/mnist/model --web site/',
    'siamese export runs/mnist/model --format pytorch --out torch-mnist',
  ],
  async run(args, io) {
    const [given] = args.positionals as [string | undefined];
    const v = args.values;
    if (String(v.format) === 'pytorch') return exportPytorch(given, args, io);
    const stray = Object.keys(pytorchOptions).find((f) => args.given.has(f));
    if (stray) throw new UsageError(`--${stray} goes with --format pytorch`);
    if (given === undefined) throw new UsageError('needs MODEL (a model folder)');
    const dir = given;
    const web = str(v.web);
    if (web !== undefined) {
      const clash = ['cut', 'out', 'triton', 'quantize', 'no-fold'].find((f) => args.given.has(f));
      if (clash)
        throw new UsageError(
          `--web writes the encoder and head cuts itself; drop --${clash} (an int8 model folder gives an int8 page)`,
        );
      await exportWeb(dir, web, io);
      return;
    }
    oneOfFlag('format', String(v.format), FORMATS);
    const cut = oneOfFlag('cut', String(v.cut), CUTS);
    const quantize = str(v.quantize);
    if (quantize === undefined) {
      const stray = QUANTIZE_FLAGS.find((f) => args.given.has(f));
      if (stray) throw new UsageError(`--${stray} needs --quantize int8`);
    } else {
      oneOfFlag('quantize', quantize, PRECISIONS);
      if (cut === 'head')
        throw new UsageError(
          '--quantize int8 --cut head: the head stays fp32 (it runs on embeddings: int8 would cost accuracy and save no time); use --cut pair or encoder',
        );
      if (v['no-fold'])
        throw new UsageError('--no-fold with --quantize: int8 needs BatchNorm folded into the convolutions');
    }
    const triton = str(v.triton);
    for (const flag of ['name', 'instance', 'max-batch'] as const) {
      if (args.given.has(flag) && triton === undefined) throw new UsageError(`--${flag} needs --triton DIR`);
    }
    const instance = oneOfFlag('instance', String(v.instance), INSTANCES);
    const maxBatch = positiveInt('max-batch', String(v['max-batch']));
    const name = str(v.name) ?? `siamese_${cut}`;
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
      throw new UsageError(`--name '${name}' must be letters, digits, '_', '-' or '.' (it is a folder name)`);
    }
    if (quantize !== undefined) {
      const { model, preprocessing } = await exportQuantized(dir, cut as 'pair' | 'encoder', args, io);
      if (triton !== undefined) {
        const what = await describeCut(cut, true, preprocessing, model);
        await writeTriton(triton, name, model, { maxBatch, instance }, what, io);
      }
      return;
    }
    const out = str(v.out) ?? (triton === undefined ? join(dir, `${cut}.onnx`) : undefined);
    if (out !== undefined && (await stat(out).catch(() => undefined))?.isDirectory()) {
      throw new UsageError(`--out '${out}' is a folder; name the .onnx file`);
    }

    const artifact = await loadModel(dir);
    const onnx = await import('@siamese/backend-onnx');
    const { preprocessing, threshold } = artifact;
    // An int8 model folder exports its int8 cuts (the head is fp32 in every model).
    const int8 = cut === 'head' ? undefined : artifact.quantization?.onnx[cut];
    if (int8 && v['no-fold'])
      throw new UsageError('--no-fold: this is an int8 model, whose cuts are written as they were quantized');
    const model =
      int8 ??
      onnx.exportSiameseCut(artifact.graph, artifact.weights, cut, {
        foldBatchNorm: !v['no-fold'],
        metadata: { preprocessing, ...(threshold ? { threshold } : {}) },
      });
    const what = await describeCut(cut, int8 !== undefined, preprocessing, model);
    if (out !== undefined) {
      await mkdir(dirname(out), { recursive: true });
      await writeFileAtomic(out, model);
      io.out(`wrote ${out} (${what})`);
    }
    if (triton !== undefined) await writeTriton(triton, name, model, { maxBatch, instance }, what, io);
  },
};

/** `pair cut, int8: x1, x2 images -> logit, probability; 1x28x28 images; ONNX opset 17, 1.2 MiB`. */
async function describeCut(
  cut: (typeof CUTS)[number],
  int8: boolean,
  p: Preprocessing,
  model: Uint8Array,
): Promise<string> {
  const { OPSET } = await import('@siamese/backend-onnx');
  const inputs = cut === 'head' ? 'embedding inputs' : `${p.channels}x${p.height}x${p.width} images`;
  return `${cut} cut${int8 ? ', int8' : ''}: ${CUT_TEXT[cut]}; ${inputs}; ONNX opset ${OPSET}, ${bytes(model.length)}`;
}

async function writeTriton(
  dir: string,
  name: string,
  model: Uint8Array,
  o: { maxBatch: number; instance: (typeof INSTANCES)[number] },
  what: string,
  io: Parameters<CommandDef['run']>[1],
): Promise<void> {
  const onnx = await import('@siamese/backend-onnx');
  const paths = await onnx.tritonRepository(dir, name, model, {
    ...onnx.tritonTensors(model),
    maxBatchSize: o.maxBatch,
    instance: o.instance,
  });
  io.out(`wrote ${paths.model} (${what})`);
  io.out(
    `wrote ${paths.config} (Triton: onnxruntime backend, ${o.instance} instance, dynamic batching up to ${o.maxBatch})`,
  );
}

/** `--out` for an int8 model folder: a new folder, an empty one, or a model folder to replace; never MODEL itself. */
async function int8Out(dir: string, given: string | undefined): Promise<string> {
  const out = given ?? `${dir.replace(/[\\/]+$/, '')}-int8`;
  if (resolve(out) === resolve(dir)) {
    throw new UsageError(
      `--out '${out}' is MODEL itself; the int8 model is a folder of its own (the fp32 model stays its source)`,
    );
  }
  const info = await stat(out).catch(() => undefined);
  if (!info) return out;
  if (!info.isDirectory()) throw new UsageError(`--out '${out}' is a file; name a folder for the int8 model`);
  const names = await readdir(out);
  if (names.length > 0 && !names.includes(MODEL_FILE)) {
    throw new UsageError(
      `--out '${out}' is a folder with other files in it; name a new folder (or a model folder to replace)`,
    );
  }
  return out;
}

async function exportQuantized(
  dir: string,
  cut: 'pair' | 'encoder',
  args: ParsedArgs,
  io: Parameters<CommandDef['run']>[1],
): Promise<{ model: Uint8Array; preprocessing: Preprocessing }> {
  const v = args.values;
  const source = str(v.calibrate);
  if (source === undefined) {
    throw new UsageError(
      "--quantize int8 needs --calibrate DATA: images like those the model will see ('mnist', a folder or a CSV of pairs, as --data takes them)",
    );
  }
  const images = positiveInt('calibration-images', String(v['calibration-images']));
  const method = oneOfFlag('calibration-method', String(v['calibration-method']), CALIBRATION_METHODS);
  const pairs = positiveInt('pairs', String(v.pairs));
  const seed = nonNegativeInt('seed', String(v.seed));
  const split = str(v.split);
  const out = await int8Out(dir, str(v.out));
  const settings = inferSettings(args, await configFor(args));
  const fp32 = await loadModel(dir);
  if (fp32.quantization) {
    throw new UsageError(
      `model '${dir}' is already int8 (written by export --quantize); quantize its fp32 source model instead`,
    );
  }
  const artifact = await quantizeInt8(
    fp32,
    {
      modelDir: dir,
      data: { source, ...(split !== undefined ? { split } : {}), images, pairs, seed },
      method,
      acceptDrop: Boolean(v['accept-drop']),
      settings,
      tty: Boolean(process.stderr.isTTY),
    },
    io,
  );
  await saveModel(out, artifact);
  const q = artifact.quantization!;
  const files = (['encoder', 'pair'] as const)
    .filter((c) => q.onnx[c])
    .map((c) => `${quantizedFile(c)} ${bytes(q.onnx[c]!.length)}`)
    .join(', ');
  io.out(`wrote ${out} (int8 model: ${files}; model.json records the calibration and the comparison)`);
  return { model: q.onnx[cut]!, preprocessing: artifact.preprocessing };
}

/** `siamese export MODEL --format onnx`: an ONNX file (and optionally a Triton model repository). */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadModel, writeFileAtomic } from '@siamese/core';
import { UsageError } from '../errors.js';
import { bytes } from './format.js';
import { oneOfFlag, positiveInt, str } from './parse.js';
import type { CommandDef } from './types.js';

const FORMATS = ['onnx'] as const;
const CUTS = ['pair', 'encoder', 'head'] as const;
const INSTANCES = ['cpu', 'gpu'] as const;

const CUT_TEXT: Record<(typeof CUTS)[number], string> = {
  pair: 'x1, x2 images -> logit, probability',
  encoder: 'image -> embedding',
  head: 'embeddingA, embeddingB -> logit, probability',
};

export const exportCommand: CommandDef = {
  name: 'export',
  summary: 'export a model to ONNX (pair, encoder or head), optionally as a Triton model repository',
  positionals: ['MODEL'],
  options: {
    format: {
      type: 'string',
      value: 'onnx',
      default: 'onnx',
      description: 'output format (onnx: IR 8, opset 17)',
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
      description: 'the .onnx file (default: MODEL/<cut>.onnx unless --triton)',
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
    'no-fold': {
      type: 'boolean',
      default: false,
      description: 'keep BatchNorm nodes instead of folding them into the convolutions',
    },
  },
  details:
    "Every file is written atomically (a temporary file, then a rename): an interrupted export leaves the old file or none. The ONNX metadata carries the model's preprocessing and threshold.",
  examples: [
    'siamese export runs/mnist/model --format onnx',
    'siamese export model --cut encoder --out encoder.onnx',
    'siamese export model --triton models --instance gpu --max-batch 128',
  ],
  async run(args, io) {
    const [dir] = args.positionals as [string];
    const v = args.values;
    oneOfFlag('format', String(v.format), FORMATS);
    const cut = oneOfFlag('cut', String(v.cut), CUTS);
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
    const out = str(v.out) ?? (triton === undefined ? join(dir, `${cut}.onnx`) : undefined);
    if (out !== undefined && (await stat(out).catch(() => undefined))?.isDirectory()) {
      throw new UsageError(`--out '${out}' is a folder; name the .onnx file`);
    }

    const artifact = await loadModel(dir);
    const onnx = await import('@siamese/backend-onnx');
    const { preprocessing, threshold } = artifact;
    const model = onnx.exportSiameseCut(artifact.graph, artifact.weights, cut, {
      foldBatchNorm: !v['no-fold'],
      metadata: { preprocessing, ...(threshold ? { threshold } : {}) },
    });
    const shape = `${preprocessing.channels}x${preprocessing.height}x${preprocessing.width}`;
    const inputs = cut === 'head' ? 'embedding inputs' : `${shape} images`;
    const what = `${cut} cut: ${CUT_TEXT[cut]}; ${inputs}; ONNX opset ${onnx.OPSET}, ${bytes(model.length)}`;
    if (out !== undefined) {
      await mkdir(dirname(out), { recursive: true });
      await writeFileAtomic(out, model);
      io.out(`wrote ${out} (${what})`);
    }
    if (triton !== undefined) {
      const paths = await onnx.tritonRepository(triton, name, model, {
        ...onnx.tritonTensors(model),
        maxBatchSize: maxBatch,
        instance,
      });
      io.out(`wrote ${paths.model} (${what})`);
      io.out(
        `wrote ${paths.config} (Triton: onnxruntime backend, ${instance} instance, dynamic batching up to ${maxBatch})`,
      );
    }
  },
};

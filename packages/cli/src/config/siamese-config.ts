/**
 * `siamese.config.json`: what a project keeps instead of repeating flags. Four optional sections:
 * `data` (where the images are), `model` (the architecture to train), `train` (how to train it) and
 * `infer` (how compare, embed, search and eval run). Flags always override the file.
 */
import { COMBINE_MODES, LOSS_KINDS, RESNET_PRESETS } from '@siamese/core';
import {
  boolean,
  type Infer,
  integer,
  type JsonSchema,
  list,
  number,
  object,
  oneOf,
  string,
} from './schema.js';

export const CONFIG_FILE = 'siamese.config.json';
/** The JSON Schema shipped with the package, for editors: `"$schema": "./node_modules/@siamese/cli/siamese.config.schema.json"`. */
export const CONFIG_SCHEMA_FILE = 'siamese.config.schema.json';

/** onnxruntime devices (backend-onnx's ONNX_DEVICES; a test keeps them equal). */
export const INFER_DEVICES = ['auto', 'cuda', 'cpu'] as const;
/** Training devices: tfjs's names plus `cuda` (the same as `gpu`); `wasm` and `js` are tfjs only. */
export const TRAIN_DEVICES = ['auto', 'gpu', 'cuda', 'cpu', 'wasm', 'js'] as const;
export const TRAIN_BACKENDS = ['auto', 'tfjs', 'onnx'] as const;
export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export const SPLIT_PARTS = ['train', 'val', 'test'] as const;

const data = object(
  {
    source: string({
      description:
        "The images: 'mnist' (built in), a folder (a folder per class, or Omniglot's alphabet/character tree) or a CSV of pairs 'a,b,label'. Paths are relative to this file.",
    }),
    split: string({
      description: 'A split manifest (JSON) written by training, relative to this file.',
    }),
    part: oneOf(SPLIT_PARTS, {
      description: "Which part of the split to use: 'train', 'val' or 'test'.",
    }),
  },
  { description: 'Where the images are.' },
);

const model = object(
  {
    arch: oneOf(Object.keys(RESNET_PRESETS) as (keyof typeof RESNET_PRESETS)[], {
      description: 'Encoder: a torchvision ResNet preset (resnet18, resnet50, ...) or a small test preset.',
    }),
    input: object(
      {
        channels: oneOf([1, 3] as const, { description: 'Image channels: 1 (grayscale) or 3 (RGB).' }),
        height: integer({ min: 1, description: 'Image height in pixels.' }),
        width: integer({ min: 1, description: 'Image width in pixels.' }),
      },
      { description: 'The input images: channels (1 grayscale, 3 RGB) and size.' },
    ),
    combine: oneOf(COMBINE_MODES, {
      description:
        "How the two embeddings meet: 'absdiff' (default), 'diff' (the original), 'concat', or a distance.",
    }),
    head: object(
      {
        hidden: list(integer({ min: 1 }), { description: 'Hidden layer widths; [] for none.' }),
        dropout: number({
          min: 0,
          max: 1,
          exclusiveMax: true,
          description: 'Dropout after each hidden layer.',
        }),
      },
      { description: 'The MLP head that turns the combined embeddings into a same/different logit.' },
    ),
    normalizeEmbeddings: boolean({ description: 'L2-normalize embeddings before combining them.' }),
  },
  { description: 'The network to train.' },
);

const train = object(
  {
    backend: oneOf(TRAIN_BACKENDS, {
      description: "'tfjs' (TensorFlow.js), 'onnx' (onnxruntime training) or 'auto'.",
    }),
    device: oneOf(TRAIN_DEVICES, {
      description: "'auto', 'gpu' (or 'cuda'), 'cpu'; 'wasm' and 'js' with the tfjs backend only.",
    }),
    epochs: integer({ min: 1, description: 'Passes over the training pairs.' }),
    batchSize: integer({ min: 1, description: 'Pairs per step.' }),
    lr: number({ min: 0, exclusiveMin: true, description: 'Learning rate.' }),
    optimizer: oneOf(OPTIMIZERS, { description: "'sgd', 'adam' or 'adamw'." }),
    loss: oneOf(LOSS_KINDS, {
      description:
        "'bce' (the original), 'contrastive', 'triplet', or an identity loss: 'normface', 'cosface', 'arcface'.",
    }),
    seed: integer({ min: 0, description: 'Seeds splits, pairs, augmentation and initialization.' }),
    out: string({ description: 'Folder for the trained model and checkpoints, relative to this file.' }),
  },
  {
    description: 'How to train (read by `siamese train`).',
    refine(t, path, issues) {
      if (t.backend === 'onnx' && (t.device === 'wasm' || t.device === 'js')) {
        issues.push({
          path: `${path}.device`,
          message: `expected one of 'auto', 'gpu', 'cuda', 'cpu' with backend 'onnx', got "${t.device}" (a tfjs device)`,
        });
      }
    },
  },
);

const infer = object(
  {
    backend: oneOf(['onnx'] as const, { description: "Inference runs on onnxruntime: 'onnx'." }),
    device: oneOf(INFER_DEVICES, {
      description: "'auto' (CUDA if it works, else CPU), 'cuda' (never falls back) or 'cpu'.",
    }),
    threads: integer({ min: 1, description: 'onnxruntime threads per operator (default: all cores).' }),
    batchSize: integer({ min: 1, description: 'Images per onnxruntime run.' }),
  },
  { description: 'How compare, embed, search and eval run.' },
);

export const siameseConfigSchema = object(
  { data, model, train, infer },
  { description: 'siamese project settings; command-line flags override them.', ignore: ['$schema'] },
);

export type SiameseConfig = Infer<typeof siameseConfigSchema>;
export type DataConfig = NonNullable<SiameseConfig['data']>;
export type ModelConfig = NonNullable<SiameseConfig['model']>;
export type TrainConfig = NonNullable<SiameseConfig['train']>;
export type InferConfig = NonNullable<SiameseConfig['infer']>;

/** The JSON Schema (draft 2020-12) of siamese.config.json. */
export function configJsonSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: CONFIG_FILE,
    ...siameseConfigSchema.jsonSchema(),
  };
}

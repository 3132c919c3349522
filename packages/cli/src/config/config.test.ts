import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ONNX_DEVICES } from '@siamese/backend-onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { info } from '../commands/info.js';
import { ConfigError } from '../errors.js';
import { parseCommandArgs } from '../run.js';
import { checkConfig, loadConfig, setting } from './load.js';
import { CONFIG_SCHEMA_FILE, configJsonSchema, INFER_DEVICES, type SiameseConfig } from './siamese-config.js';

function issues(raw: unknown): string[] {
  try {
    checkConfig(raw, 'siamese.config.json');
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  return [];
}

describe('siamese.config.json schema', () => {
  it('accepts every section', () => {
    const full: SiameseConfig = {
      data: { source: 'mnist', split: 'runs/split.json', part: 'test' },
      model: {
        arch: 'resnet18',
        input: { channels: 1, height: 105, width: 105 },
        combine: 'absdiff',
        head: { hidden: [1023], dropout: 0.5 },
        normalizeEmbeddings: false,
      },
      train: {
        backend: 'tfjs',
        device: 'gpu',
        epochs: 20,
        batchSize: 128,
        lr: 0.001,
        optimizer: 'adam',
        loss: 'bce',
        seed: 0,
        out: 'runs/omniglot',
      },
      infer: { backend: 'onnx', device: 'auto', threads: 4, batchSize: 64 },
    };
    expect(checkConfig({ $schema: './schema.json', ...full })).toEqual(full);
    expect(checkConfig({})).toEqual({});
  });

  it('reports every bad field with its path, what was expected and what was there', () => {
    expect(
      issues({
        data: [],
        model: {
          arch: 'resnet19',
          input: { channels: 2, height: 0 },
          head: { hidden: [512, 0], dropout: 1 },
          normalizeEmbeddings: 'yes',
        },
        train: { batchSize: -3, epochs: '10', lr: 0, batchsize: 3, device: 'wasm', backend: 'onnx' },
        infer: { device: 'gpu', backend: 'tfjs', threads: null },
        extra: 1,
      }),
    ).toEqual([
      'siamese.config.json: data: expected an object, got a list',
      "siamese.config.json: model.arch: expected one of 'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d', 'resnext101_32x8d', 'wide_resnet50_2', 'wide_resnet101_2', 'resnet18_w16', 'resnet10_w8', got \"resnet19\"",
      'siamese.config.json: model.input.channels: expected 1 or 3, got 2',
      'siamese.config.json: model.input.height: expected a positive integer, got 0',
      'siamese.config.json: model.head.hidden[1]: expected a positive integer, got 0',
      'siamese.config.json: model.head.dropout: expected a number in [0, 1), got 1',
      'siamese.config.json: model.normalizeEmbeddings: expected true or false, got "yes"',
      'siamese.config.json: train.batchSize: expected a positive integer, got -3',
      'siamese.config.json: train.epochs: expected a positive integer, got "10"',
      'siamese.config.json: train.lr: expected a positive number, got 0',
      "siamese.config.json: train.batchsize: unknown field; did you mean 'batchSize'?",
      "siamese.config.json: infer.device: expected one of 'auto', 'cuda', 'cpu', got \"gpu\"",
      'siamese.config.json: infer.backend: expected \'onnx\', got "tfjs"',
      'siamese.config.json: infer.threads: expected a positive integer, got null',
      "siamese.config.json: extra: unknown field (expected 'data', 'model', 'train', 'infer')",
    ]);
  });

  it('checks fields against each other once each is valid', () => {
    expect(issues({ train: { backend: 'onnx', device: 'wasm' } })).toEqual([
      `siamese.config.json: train.device: expected one of 'auto', 'gpu', 'cuda', 'cpu' with backend 'onnx', got "wasm" (a tfjs device)`,
    ]);
    expect(issues({ train: { backend: 'tfjs', device: 'wasm' } })).toEqual([]);
    expect(issues([])).toEqual(['siamese.config.json: expected an object, got a list']);
  });

  it('ships a JSON Schema file that matches the declaration', async () => {
    const file = JSON.parse(await readFile(new URL(`../../${CONFIG_SCHEMA_FILE}`, import.meta.url), 'utf8'));
    expect(file).toEqual(configJsonSchema());
    expect(file.properties.train.properties.batchSize).toEqual({
      description: 'Pairs per step.',
      type: 'integer',
      minimum: 1,
    });
    expect(file.properties.train.properties.lr).toMatchObject({ type: 'number', exclusiveMinimum: 0 });
  });

  it("names onnxruntime's devices as backend-onnx does", () => {
    expect([...INFER_DEVICES]).toEqual([...ONNX_DEVICES]);
  });
});

describe('loading siamese.config.json', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'siamese-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is optional in the working directory, required when named', async () => {
    expect(await loadConfig({ cwd: dir })).toEqual({ config: {} });
    await expect(loadConfig({ cwd: dir, path: 'other.json' })).rejects.toThrow(
      'other.json: config file does not exist',
    );
  });

  it('reads the working directory file and resolves its paths against its folder', async () => {
    const project = join(dir, 'project');
    await mkdir(project);
    await writeFile(
      join(project, 'siamese.config.json'),
      JSON.stringify({ data: { source: 'images', split: '/abs/split.json' }, train: { out: 'runs/a' } }),
    );
    const loaded = await loadConfig({ cwd: project });
    expect(loaded.file).toBe('siamese.config.json');
    expect(loaded.config).toEqual({
      data: { source: join(project, 'images'), split: '/abs/split.json' },
      train: { out: join(project, 'runs/a') },
    });
    await writeFile(join(project, 'mnist.json'), JSON.stringify({ data: { source: 'mnist' } }));
    expect((await loadConfig({ cwd: project, path: 'mnist.json' })).config.data?.source).toBe('mnist');
  });

  it('reports a file that is not JSON in one line, with the line and column', async () => {
    await writeFile(join(dir, 'broken.json'), '{ "train": ');
    await expect(loadConfig({ cwd: dir, path: 'broken.json' })).rejects.toThrow(
      /^broken\.json:1:12: not valid JSON: unexpected end of file$/,
    );
    // JSON.parse quotes the text around an unexpected token, newlines and all: still one line.
    await writeFile(
      join(dir, 'broken.json'),
      '\uFEFF{\n  "model": {\n    "head": { "hidden": [64,] }\n  }\n}\n',
    );
    await expect(loadConfig({ cwd: dir, path: 'broken.json' })).rejects.toThrow(
      /^broken\.json:3:29: not valid JSON: unexpected '\]'$/,
    );
  });

  it('merges: a flag given wins, then the file, then the default', () => {
    const none = parseCommandArgs(info, []);
    expect(setting(none, 'arch', undefined)).toBe('resnet18');
    expect(setting(none, 'arch', 'resnet50')).toBe('resnet50');
    expect(setting(none, 'channels', 3)).toBe('3');
    const given = parseCommandArgs(info, ['--arch', 'resnet34']);
    expect(setting(given, 'arch', 'resnet50')).toBe('resnet34');
    // A flag given with the default's value still wins over the file.
    expect(setting(parseCommandArgs(info, ['--arch', 'resnet18']), 'arch', 'resnet50')).toBe('resnet18');
  });
});

/** Every bad input the user can give ends as one line on stderr, exit code 2, no stack trace. */
import { mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, makeModel, siameseCli, tempDir } from '../test/cli.js';

describe('bad input (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;
  const image = join(FIXTURES, 'folder/circle/circle-1.png');

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'));
  });
  afterAll(() => tmp.remove());

  async function oneLine(args: readonly string[], message: RegExp, env?: Record<string, string>) {
    const r = await siameseCli(args, env ? { env } : {});
    expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.errLines).toEqual([expect.stringMatching(message)]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }

  it('missing files', async () => {
    const nope = join(tmp.path, 'nope.png');
    await oneLine(
      ['compare', model, image, nope],
      /^siamese compare: image: .*nope\.png: file does not exist$/,
    );
    await oneLine(
      ['search', model, image, '--index', join(tmp.path, 'none.safetensors')],
      /^siamese search: --index '.*none\.safetensors': no such file or folder \(an embeddings file from siamese embed/,
    );
    await oneLine(
      ['eval', model, '--data', join(tmp.path, 'gone')],
      /^siamese eval: data '.*gone': no such file or folder/,
    );
    await oneLine(
      ['compare', model, image, image, '--config', join(tmp.path, 'x.json')],
      /^siamese compare: .*x\.json: config file does not exist$/,
    );
  });

  it('unreadable images', async () => {
    for (const [file, why] of [
      ['truncated.png', /corrupt or truncated image/],
      ['zero.png', /empty file \(0 bytes\), not an image/],
      ['text.jpg', /not an image sharp can read/],
    ] as const) {
      const bad = join(FIXTURES, 'broken/bad', file);
      await oneLine(
        ['compare', model, image, bad],
        new RegExp(`^siamese compare: image: ${bad}: ${why.source}`),
      );
    }
  });

  it('a model folder that is not one', async () => {
    const empty = join(tmp.path, 'empty');
    await mkdir(empty);
    await oneLine(
      ['compare', empty, image, image],
      /^siamese compare: model: '.*empty' is not a model folder \(no model\.json\)$/,
    );
    await oneLine(
      ['info', image],
      /^siamese info: model: '.*circle-1\.png' is a file; a model is a folder with model\.json and weights\.safetensors$/,
    );
    await oneLine(
      ['export', join(tmp.path, 'missing')],
      /^siamese export: model: folder '.*missing' does not exist$/,
    );
    const notJson = join(tmp.path, 'not-json');
    await mkdir(notJson);
    await writeFile(join(notJson, 'model.json'), '{ nope');
    await oneLine(['info', notJson], /^siamese info: model: .*model\.json is not valid JSON/);
  });

  it('a truncated weights file', async () => {
    const cut = await makeModel(join(tmp.path, 'truncated'));
    const weights = join(cut, 'weights.safetensors');
    await truncate(weights, (await stat(weights)).size - 1000);
    await oneLine(
      ['compare', cut, image, image],
      /^siamese compare: weights: .*weights\.safetensors: tensor '.*' has data_offsets \[\d+,\d+\] beyond the \d+-byte data section$/,
    );
    await truncate(weights, 20);
    await oneLine(
      ['info', cut],
      /^siamese info: weights: .*weights\.safetensors: header length \d+ is larger than the 12 bytes that follow it \(truncated file\?\)$/,
    );
  });

  it('an unknown architecture', async () => {
    const odd = await makeModel(join(tmp.path, 'odd'));
    const file = join(odd, 'model.json');
    const json = JSON.parse(await readFile(file, 'utf8'));
    json.config.encoder = 'resnet19';
    await writeFile(file, JSON.stringify(json));
    await oneLine(
      ['compare', odd, image, image],
      /^siamese compare: model: .*model\.json: config\.encoder must be one of resnet18, .* or a ResNet config object, got "resnet19"$/,
    );
    await oneLine(
      ['info', '--arch', 'resnet19'],
      /^siamese info: --arch 'resnet19' is not a known architecture/,
    );
  });

  it('a GPU asked for and absent', async () => {
    // No visible CUDA device, whatever this machine has: --device cuda must fail, never fall back.
    await oneLine(
      ['compare', model, image, image, '--device', 'cuda'],
      /^siamese compare: device 'cuda' is not available: .*CUDA 12\.x and cuDNN 9/,
      {
        CUDA_VISIBLE_DEVICES: '',
      },
    );
    await oneLine(
      ['compare', model, image, image, '--device', 'gpu'],
      /^siamese compare: --device 'gpu' is not one of auto, cuda, cpu$/,
    );
  });

  it('wrong arguments', async () => {
    await oneLine(
      ['compare', model, image],
      /^siamese compare: needs MODEL A B \(got '.*' '.*circle-1\.png'\)$/,
    );
    await oneLine(['doctor', 'now'], /^siamese doctor: takes no arguments \(got 'now'\)$/);
    await oneLine(
      ['compare', model, image, image, '--threads', '0'],
      /^siamese compare: --threads must be a positive integer, got '0'$/,
    );
  });

  it('--verbose adds the stack trace', async () => {
    const r = await siameseCli(['compare', join(tmp.path, 'missing'), image, image, '--verbose']);
    expect(r.code).toBe(2);
    expect(r.errLines[0]).toMatch(/^siamese compare: model: folder '.*missing' does not exist$/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('a bad siamese.config.json: one line per bad field, with its path and what was expected', async () => {
    const config = join(tmp.path, 'bad.config.json');
    await writeFile(
      config,
      JSON.stringify({ train: { batchSize: -3, optimiser: 'adam' }, infer: { device: 'gpu', threads: 1.5 } }),
    );
    const r = await siameseCli(['compare', model, image, image, '--config', config]);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      `siamese compare: ${config}: train.batchSize: expected a positive integer, got -3`,
      `siamese compare: ${config}: train.optimiser: unknown field; did you mean 'optimizer'?`,
      `siamese compare: ${config}: infer.device: expected one of 'auto', 'cuda', 'cpu', got "gpu"`,
      `siamese compare: ${config}: infer.threads: expected a positive integer, got 1.5`,
    ]);
  });
});

/**
 * Files that look right and are not: a model.json with a wrong field, weights with NaN, a folder
 * named as an image, a config file with a syntax error. Each ends as one stderr line naming the
 * file (and the field or place), exit code 2, and nothing on stdout: no half-printed result.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadWeights, saveWeights } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copiesFolder, FIXTURES, makeModel, siameseCli, tempDir } from '../test/cli.js';

describe('files that look right and are not (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;
  let gallery: string;
  let index: string;
  const image = join(FIXTURES, 'folder/circle/circle-1.png');

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'));
    gallery = await copiesFolder(join(tmp.path, 'gallery'), 2);
    index = join(tmp.path, 'gallery.safetensors');
    const r = await siameseCli(['embed', model, gallery, '--out', index, '--device', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => tmp.remove());

  /** A copy of the good model with one model.json field (a dotted path) set to `value`. */
  async function editedModel(name: string, field: string, value: unknown): Promise<string> {
    const dir = join(tmp.path, name);
    await cp(model, dir, { recursive: true });
    const file = join(dir, 'model.json');
    const json = JSON.parse(await readFile(file, 'utf8'));
    const keys = field.split('.');
    let at = json;
    for (const k of keys.slice(0, -1)) at = at[k];
    at[keys.at(-1)!] = value;
    await writeFile(file, JSON.stringify(json));
    return dir;
  }

  async function oneLine(args: readonly string[], line: string | RegExp): Promise<void> {
    const r = await siameseCli(args);
    expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.errLines).toEqual([typeof line === 'string' ? line : expect.stringMatching(line)]);
  }

  it('a model.json field of the wrong type or out of range, in every command that reads the model', async () => {
    const high = await editedModel('high', 'threshold.probability', 'high');
    const field = `model: ${join(high, 'model.json')}: threshold.probability must be a number in [0, 1], got "high"`;
    await oneLine(['compare', high, image, image], `siamese compare: ${field}`);
    await oneLine(['info', high], `siamese info: ${field}`);
    await oneLine(['eval', high, '--data', gallery, '--device', 'cpu'], `siamese eval: ${field}`);
    await oneLine(['search', high, image, '--index', index], `siamese search: ${field}`);
    const over = await editedModel('over', 'threshold.probability', 1.5);
    await oneLine(
      ['info', over],
      `siamese info: model: ${join(over, 'model.json')}: threshold.probability must be a number in [0, 1], got 1.5`,
    );
  });

  it('a config that does not describe the graph', async () => {
    const other = await editedModel('other', 'config.encoder', 'resnet50');
    await oneLine(
      ['info', other],
      `siamese info: model: ${join(other, 'model.json')}: config.encoder says resnet50 but the graph was built with resnet10_w8`,
    );
  });

  it('weights with NaN', async () => {
    const dir = join(tmp.path, 'nan');
    await cp(model, dir, { recursive: true });
    const file = join(dir, 'weights.safetensors');
    const { tensors } = await loadWeights(file);
    (tensors.get('head.0.weight')!.data as Float32Array)[3] = Number.NaN;
    await saveWeights(file, tensors);
    await oneLine(
      ['compare', dir, image, image],
      `siamese compare: weights: ${file}: tensor 'head.0.weight' has NaN at index 3`,
    );
  });

  it('a folder given as an image', async () => {
    const folder = join(FIXTURES, 'folder/circle');
    const line = `image: '${folder}' is a folder, not an image file`;
    await oneLine(['compare', model, image, folder], `siamese compare: ${line}`);
    await oneLine(['search', model, folder, '--index', index], `siamese search: ${line}`);
  });

  it('a config file with a syntax error: its line and column', async () => {
    const config = join(tmp.path, 'siamese.config.json');
    await writeFile(config, '{\n  "infer": {\n    "device": "cpu",\n  }\n}\n');
    await oneLine(
      ['compare', model, image, image, '--config', config],
      `siamese compare: ${config}:4:3: not valid JSON: expected double-quoted property name`,
    );
  });
});

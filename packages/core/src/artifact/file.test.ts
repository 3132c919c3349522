import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWeights } from '../nn/init.js';
import { siamese } from '../nn/siamese.js';
import { loadModel, saveModel } from './file.js';
import { ArtifactError, type ModelArtifact } from './model.js';
import { defaultPreprocessing } from './preprocessing.js';

const config = { encoder: 'resnet10_w8', input: { channels: 1, height: 32, width: 32 } } as const;
let dir: string;
let model: ModelArtifact;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'siamese-artifact-'));
  const graph = siamese(config);
  model = {
    graph,
    config,
    preprocessing: defaultPreprocessing(config.input),
    threshold: { probability: 0.42, method: 'eer' },
    metrics: { pairAccuracy: 0.97 },
    weights: initWeights(graph, 3),
  };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function expectError(path: string, message: RegExp): Promise<void> {
  const err = await loadModel(path).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ArtifactError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toContain('\n');
}

describe('model artifact', () => {
  it('round-trips graph, config, preprocessing, threshold, metrics and weights', async () => {
    const out = join(dir, 'ok');
    await saveModel(out, model);
    const back = await loadModel(out);
    expect(back.graph).toEqual(model.graph);
    expect(back.config).toEqual(model.config);
    expect(back.preprocessing).toEqual(model.preprocessing);
    expect(back.threshold).toEqual(model.threshold);
    expect(back.metrics).toEqual(model.metrics);
    expect([...back.weights.keys()]).toEqual(model.graph.params.map((p) => p.name));
    expect(back.weights.get('head.0.weight')!.data).toEqual(model.weights.get('head.0.weight')!.data);
  });

  it('says what is wrong with a folder that is not a model', async () => {
    await expectError(join(dir, 'missing'), /folder '.*missing' does not exist/);
    const file = join(dir, 'file.txt');
    await writeFile(file, 'x');
    await expectError(file, /is a file; a model is a folder/);
    await expectError(dir, /is not a model folder \(no model\.json\)/);
  });

  it('names model.json problems', async () => {
    const out = join(dir, 'json');
    await saveModel(out, model);
    const path = join(out, 'model.json');
    const good = await readFile(path, 'utf8');
    await writeFile(path, '{ nope');
    await expectError(out, /model\.json is not valid JSON/);
    await writeFile(path, JSON.stringify({ ...JSON.parse(good), formatVersion: 7 }));
    await expectError(out, /formatVersion 7; this version reads 1/);
    await writeFile(
      path,
      JSON.stringify({ ...JSON.parse(good), preprocessing: { ...model.preprocessing, std: [0] } }),
    );
    await expectError(out, /preprocessing\.std must be positive/);
  });

  it('rejects truncated or mismatched weights in one line', async () => {
    const out = join(dir, 'weights');
    await saveModel(out, model);
    await truncate(join(out, 'weights.safetensors'), 1000);
    await expectError(out, /weights\.safetensors/);
    const other = siamese({ ...config, input: { channels: 3, height: 32, width: 32 } });
    await saveModel(out, {
      ...model,
      graph: other,
      config: { ...config, input: { channels: 3, height: 32, width: 32 } },
      preprocessing: defaultPreprocessing({ channels: 3, height: 32, width: 32 }),
      weights: initWeights(other, 1),
    });
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    await saveModel(join(dir, 'gray'), model);
    await writeFile(join(dir, 'gray', 'model.json'), JSON.stringify({ ...json }));
    await expectError(join(dir, 'gray'), /has shape \[8,1,7,7\] but the graph expects \[8,3,7,7\]/);
  });
});

import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWeights } from '../nn/init.js';
import { siamese, siameseTraining } from '../nn/siamese.js';
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

describe('model.json is checked on load', () => {
  let path: string;
  let good: Record<string, unknown>;
  const out = () => join(dir, 'schema');

  beforeAll(async () => {
    await saveModel(out(), model);
    path = join(out(), 'model.json');
    good = JSON.parse(await readFile(path, 'utf8'));
  });

  /** model.json with each dotted field set (`undefined` removes it), on a copy of the good file. */
  async function withFields(...edits: [string, unknown][]): Promise<void> {
    const json = structuredClone(good);
    for (const [field, value] of edits) {
      const keys = field.split('.');
      let at = json;
      for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
      if (value === undefined) delete at[keys.at(-1)!];
      else at[keys.at(-1)!] = value;
    }
    await writeFile(path, JSON.stringify(json));
  }

  it.each([
    ['threshold.probability', 'high', 'threshold.probability must be a number in [0, 1], got "high"'],
    ['threshold.probability', 1.5, 'threshold.probability must be a number in [0, 1], got 1.5'],
    ['threshold.method', 'best', `threshold.method must be one of 'eer', 'far', 'fixed', got "best"`],
    ['threshold.targetFar', -1, 'threshold.targetFar must be a number in [0, 1], got -1'],
    ['threshold.extra', 1, 'threshold.extra is not a known field (known: probability, method, targetFar)'],
    ['metrics.rocAuc', '0.9', 'metrics.rocAuc must be a finite number, got "0.9"'],
    ['config.encoder', 'resnet19', 'config.encoder must be one of resnet18, '],
    [
      'config.encoder',
      { block: 'basic', layers: [1, 1] },
      'config.encoder.layers must be a list of 4, got [1,1]',
    ],
    [
      'config.combine',
      'sum',
      `config.combine must be one of 'absdiff', 'diff', 'concat', 'euclidean', 'cosine', got "sum"`,
    ],
    ['config.head', { dropout: 1 }, 'config.head.dropout must be a number in [0, 1), got 1'],
    ['config.input.width', 0, 'config.input.width must be a positive integer, got 0'],
    ['config.input', undefined, 'config.input must be an object, got nothing'],
    [
      'preprocessing.mean',
      [0.5, 0.5],
      'preprocessing.mean must be 1 numbers (one per channel), got [0.5,0.5]',
    ],
    ['preprocessing.height', 28, 'preprocessing.height is 28 but config.input.height is 32'],
    ['weights', 'x.bin', 'weights is not a known field (known: format, '],
    ['provenance', 'yesterday', 'provenance must be an object, got "yesterday"'],
  ] as [string, unknown, string][])('names %s = %j', async (field, value, message) => {
    await withFields([field, value]);
    const err = (await loadModel(out()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ArtifactError);
    expect(err.message.startsWith(`model: ${path}: ${message}`), err.message).toBe(true);
    expect(err.message).not.toContain('\n');
  });

  it('accepts what training writes: no threshold, the accept-nothing threshold, a provenance object', async () => {
    await withFields(['threshold', null]);
    expect((await loadModel(out())).threshold).toBeUndefined();
    await withFields(['threshold', { probability: 1 + Number.EPSILON, method: 'far', targetFar: 0 }]);
    expect((await loadModel(out())).threshold?.probability).toBe(1 + Number.EPSILON);
    await withFields(['provenance', { run: 'abc', git: { commit: 'f00' } }]);
    expect((await loadModel(out())).config).toEqual(config);
  });

  it('refuses a config that does not describe the graph', async () => {
    await withFields(['config.encoder', 'resnet18']);
    await expectError(out(), /config\.encoder says resnet18 but the graph was built with resnet10_w8$/);
    await withFields(['config.combine', 'diff']);
    await expectError(out(), /config\.combine says "diff" but the graph was built with "absdiff"$/);
    await withFields(['config.head', { hidden: [16] }]);
    await expectError(
      out(),
      /config\.head says \{"dropout":0\.5,"hidden":\[16\]\} but the graph was built with/,
    );
    // Without the builder's record, the parameters still tell.
    await withFields(['config.encoder', 'resnet18_w16'], ['graph.meta.siamese', undefined]);
    await expectError(
      out(),
      /config describes parameter 'encoder\.conv1\.weight' as float32 \[16,1,7,7\] but the graph has float32 \[8,1,7,7\]$/,
    );
  });

  it('loads checkpoints, whose graphs are training graphs', async () => {
    for (const loss of [
      { kind: 'triplet' },
      { kind: 'arcface', classes: 5 },
      { kind: 'contrastive' },
    ] as const) {
      const graph = siameseTraining(config, loss);
      const at = join(dir, `ckpt-${loss.kind}`);
      await saveModel(at, { ...model, graph, weights: initWeights(graph, 1) });
      expect((await loadModel(at)).graph.params.length).toBe(graph.params.length);
    }
  });
});

describe('weights with NaN or Inf', () => {
  it('are refused on load, naming the tensor and the first bad index', async () => {
    const out = join(dir, 'nan');
    for (const [value, shown] of [
      [Number.NaN, 'NaN'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ] as const) {
      const weights = new Map(model.weights);
      const head = Float32Array.from(weights.get('head.0.weight')!.data as Float32Array);
      head[3] = value;
      head[7] = value;
      weights.set('head.0.weight', { ...weights.get('head.0.weight')!, data: head });
      await saveModel(out, { ...model, weights });
      await expectError(
        out,
        new RegExp(
          `^weights: .*nan/weights\\.safetensors: tensor 'head\\.0\\.weight' has ${shown} at index 3$`,
        ),
      );
    }
  });
});

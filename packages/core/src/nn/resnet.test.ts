/**
 * The IR encoder against torchvision itself: state_dict names, order, shapes and dtypes, and the
 * parameter counts, from `__fixtures__/torchvision-resnets.json` (tools/reference/torchvision_resnets.py).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { summarize } from '../ir/summary.js';
import type { Graph } from '../ir/types.js';
import { type ResNetConfig, resnet, resnetEmbeddingSize, resnetPreset } from './resnet.js';
import { siamese } from './siamese.js';

interface FixtureKey {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

interface FixtureModule {
  readonly name: string;
  readonly parameters: number;
  readonly buffers: number;
  readonly keys: readonly FixtureKey[];
}

interface FixtureModel extends FixtureModule {
  readonly preset: string;
  readonly overrides: Partial<ResNetConfig>;
  readonly embedding: number;
}

interface Fixture {
  readonly torch: string;
  readonly models: readonly FixtureModel[];
  readonly head: FixtureModule;
}

const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/torchvision-resnets.json', import.meta.url), 'utf8'),
) as Fixture;

const SIZE = { height: 224, width: 224 };

function keysOf(graph: Graph, prefix = ''): FixtureKey[] {
  return graph.params
    .filter((p) => p.name.startsWith(prefix))
    .map((p) => ({ name: p.name.slice(prefix.length), shape: p.shape as number[], dtype: p.dtype }));
}

// Building the 150-layer graphs takes a moment; each model is built once.
const built = new Map<string, Graph>();
function encoder(m: FixtureModel): Graph {
  let g = built.get(m.name);
  if (!g) {
    g = resnet(resnetPreset(m.preset, m.overrides), SIZE);
    built.set(m.name, g);
  }
  return g;
}

function model(name: string): FixtureModel {
  const m = fixture.models.find((e) => e.name === name);
  if (!m) throw new Error(`fixture has no model '${name}'`);
  return m;
}

it('the fixture covers the torchvision variants the encoder must reproduce', () => {
  expect(fixture.models.map((m) => m.name)).toEqual([
    'resnet18',
    'resnet34',
    'resnet50',
    'resnet101',
    'resnet152',
    'resnext50_32x4d',
    'wide_resnet50_2',
    'resnet50_dilated',
    'resnet18_gray',
  ]);
});

describe.each(fixture.models.map((m) => [m.name, m] as const))('%s matches torchvision', (_name, m) => {
  it('has the state_dict keys in the same order, with the same shapes and dtypes', () => {
    const ours = keysOf(encoder(m));
    expect(ours.map((k) => k.name)).toEqual(m.keys.map((k) => k.name));
    expect(ours).toEqual(m.keys);
  });

  it('marks BatchNorm statistics as buffers and everything else as trainable', () => {
    for (const p of encoder(m).params) {
      const buffer = /\.(running_mean|running_var|num_batches_tracked)$/.test(p.name);
      expect({ name: p.name, kind: p.kind, trainable: p.trainable }).toEqual({
        name: p.name,
        kind: buffer ? 'buffer' : 'parameter',
        trainable: !buffer,
      });
    }
  });

  it('has the same parameter and buffer counts and embedding size', () => {
    const s = summarize(encoder(m));
    expect(s.parameters).toBe(m.parameters);
    expect(s.frozenParameters).toBe(0);
    expect(s.buffers).toBe(m.buffers);
    expect(resnetEmbeddingSize(resnetPreset(m.preset, m.overrides))).toBe(m.embedding);
    const out = encoder(m).outputs.find((o) => o.name === 'embedding');
    expect(encoder(m).values[out?.value ?? '']?.shape).toEqual(['N', m.embedding]);
  });
});

describe('the figures in DESIGN.md', () => {
  it.each([
    ['resnet18', 11_176_512],
    ['resnet50', 23_508_032],
    ['resnext50_32x4d', 22_979_904],
    ['wide_resnet50_2', 66_834_240],
  ] as const)('%s without fc has %i parameters', (name, count) => {
    expect(summarize(encoder(model(name))).parameters).toBe(count);
  });

  // torchvision's published GFLOPS at 224x224 (multiply-adds): 1.81 and 4.09.
  it.each([
    ['resnet18', 1.81e9],
    ['resnet50', 4.09e9],
  ] as const)('%s costs about %d multiply-adds at 224x224', (name, flops) => {
    const f = summarize(encoder(model(name))).flops;
    expect(Math.abs(f - flops) / flops).toBeLessThan(0.01);
  });
});

describe('siamese() names', () => {
  const g = siamese({ encoder: 'resnet50', input: { channels: 3, ...SIZE }, combine: 'diff' });

  it('puts the encoder under encoder. with torchvision keys', () => {
    expect(keysOf(g, 'encoder.')).toEqual(model('resnet50').keys);
  });

  it('puts the original head under head. with nn.Sequential keys and 2,097,151 parameters', () => {
    expect(keysOf(g, 'head.')).toEqual(fixture.head.keys);
    expect(fixture.head.parameters).toBe(2_097_151);
    expect(g.params.every((p) => p.name.startsWith('encoder.') || p.name.startsWith('head.'))).toBe(true);
    expect(summarize(g).parameters).toBe(model('resnet50').parameters + fixture.head.parameters);
  });
});

/** The identity-loss training graph: labelled images in, a training-only classifier, cosine scoring. */
import { describe, expect, it } from 'vitest';
import { trainingStep } from '../autodiff/training-step.js';
import { siamese, siameseTraining } from '../nn/siamese.js';
import { scoreKind } from '../scoring/score-kind.js';
import { CLASSIFIER_WEIGHT, resolveIdentityLoss } from './identity.js';

const config = { encoder: 'resnet10_w8', input: { channels: 1, height: 16, width: 16 } } as const;

describe('identity losses', () => {
  it('train on labelled images with a classifier the inference graph does not have', () => {
    const g = siameseTraining(config, { kind: 'cosface', classes: 5 });
    expect(g.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['images', ['N', 1, 16, 16]],
      ['labels', ['N']],
    ]);
    expect(g.outputs.map((o) => o.name)).toEqual(['loss', 'embeddingA']);
    expect(g.params.find((p) => p.name === CLASSIFIER_WEIGHT)!.shape).toEqual([5, 64]);
    const ops = g.nodes.map((n) => n.op);
    expect(ops).toContain('marginLogits');
    expect(ops.at(-1)).toBe('softmaxCrossEntropy');
    const inference = siamese({ ...config, combine: 'cosine' });
    expect(inference.params.some((p) => p.name === CLASSIFIER_WEIGHT)).toBe(false);
    expect(scoreKind(g)).toEqual({
      kind: 'embedding',
      output: 'embeddingA',
      input: 'images',
      metric: 'cosine',
    });
  });

  it('differentiate into every encoder parameter and the classifier', () => {
    for (const kind of ['normface', 'cosface', 'arcface'] as const) {
      const step = trainingStep(siameseTraining(config, { kind, classes: 3 }));
      expect(step.frozen, kind).toEqual([]);
      expect(step.updates.has(CLASSIFIER_WEIGHT), kind).toBe(true);
    }
  });

  it('write out their defaults and refuse settings that make no sense', () => {
    expect(resolveIdentityLoss({ kind: 'cosface', classes: 2 })).toEqual({
      kind: 'cosface',
      classes: 2,
      scale: 30,
      margin: 0.35,
      easyMargin: false,
    });
    expect(resolveIdentityLoss({ kind: 'arcface', classes: 2 }).margin).toBe(0.5);
    expect(() => resolveIdentityLoss({ kind: 'cosface', classes: 1 })).toThrow(
      /classes must be an integer >= 2/,
    );
    expect(() => resolveIdentityLoss({ kind: 'normface', classes: 3, margin: 0.1 })).toThrow(/no margin/);
    expect(() => resolveIdentityLoss({ kind: 'arcface', classes: 3, margin: 2 })).toThrow(/radians/);
    expect(() => resolveIdentityLoss({ kind: 'cosface', classes: 3, scale: 0 })).toThrow(/scale must be > 0/);
    expect(() => resolveIdentityLoss({ kind: 'cosface', classes: 3, easyMargin: true })).toThrow(
      /arcface setting/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { siameseTraining } from '../nn/siamese.js';
import { freeze } from './freeze.js';
import { trainingStep } from './training-step.js';

const tiny = () =>
  siameseTraining(
    { encoder: 'resnet10_w8', input: { channels: 1, height: 16, width: 16 }, head: { hidden: [8] } },
    { kind: 'bce' },
  );

describe('freeze', () => {
  it('marks the prefixed parameters not trainable and leaves the rest', () => {
    const g = freeze(tiny(), 'encoder.');
    const enc = g.params.filter((p) => p.kind === 'parameter' && p.name.startsWith('encoder.'));
    expect(enc.length).toBeGreaterThan(0);
    expect(enc.every((p) => !p.trainable)).toBe(true);
    expect(g.params.filter((p) => p.name.startsWith('head.')).every((p) => p.trainable)).toBe(true);
  });

  it('refuses a prefix that matches nothing (a typo would silently train everything)', () => {
    expect(() => freeze(tiny(), 'encodr.')).toThrow(
      "freeze: no parameter of graph 'siamese_bce' starts with 'encodr.'",
    );
  });

  it('gives a frozen encoder no update, no slots, no backward and eval-mode BatchNorm', () => {
    const s = trainingStep(freeze(tiny(), 'encoder.'), { optimizer: { kind: 'adam' } });
    expect([...s.updates.keys()].filter((k) => k.startsWith('encoder.'))).toEqual([]);
    expect(s.slots.every((x) => x.param.startsWith('head.'))).toBe(true);
    expect(s.counters.size).toBe(0);
    const ops = s.graph.nodes.map((n) => n.op);
    expect(ops).not.toContain('batchNormTrain');
    expect(ops.filter((o) => o === 'batchNorm').length).toBeGreaterThan(0);
    // Nothing of the backward pass reaches into the encoder: no convolution gradient at all.
    expect(
      s.graph.nodes.filter((n) => n.name.includes('encoder') && /grad|Grad|Transpose/.test(n.op)),
    ).toEqual([]);
  });
});

describe('parameter groups', () => {
  it('scales the learning rate of a group once and updates its parameters with it', () => {
    const s = trainingStep(tiny(), {
      optimizer: { kind: 'adam' },
      paramGroups: [{ prefix: 'encoder.', lrFactor: 0.1 }],
    });
    const scaled = s.graph.nodes.filter(
      (n) => n.op === 'scale' && n.inputs[0] === 'lr' && n.name.includes('group_lr'),
    );
    expect(scaled).toHaveLength(1);
    expect(scaled[0]!.attrs).toMatchObject({ alpha: 0.1 });
    expect(s.graph.meta.trainingStep).toMatchObject({ paramGroups: [{ prefix: 'encoder.', lrFactor: 0.1 }] });
  });

  it('refuses a negative or missing factor, naming the group', () => {
    expect(() => trainingStep(tiny(), { paramGroups: [{ prefix: 'encoder.', lrFactor: -1 }] })).toThrow(
      "paramGroups[0] ('encoder.'): lrFactor must be a number >= 0, got -1",
    );
    expect(() => trainingStep(tiny(), { paramGroups: [{ prefix: '', lrFactor: 1 }] })).toThrow(
      'paramGroups[0]: prefix must be a non-empty string',
    );
  });
});

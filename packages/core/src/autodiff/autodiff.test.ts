import { describe, expect, it } from 'vitest';
import { siameseTraining } from '../nn/siamese.js';
import { OPS, type OpName } from '../ops/table.js';
import { grad } from './grad.js';
import { NO_RULE_REASON, VJP } from './rules.js';
import { stepNames } from './step-names.js';
import { trainingForm } from './training-form.js';
import { trainingStep } from './training-step.js';

const tiny = () =>
  siameseTraining(
    {
      encoder: 'resnet10_w8',
      input: { channels: 1, height: 16, width: 16 },
      head: { hidden: [8], dropout: 0.5 },
    },
    { kind: 'bce' },
  );

describe('autodiff', () => {
  it('decides a rule (or deliberately none) for every op', () => {
    expect(Object.keys(VJP).sort()).toEqual(Object.keys(OPS).sort());
    for (const op of ['batchNorm', 'dropout'] as OpName[]) expect(NO_RULE_REASON[op]).toBeTruthy();
  });

  it('training form chains BatchNorm buffers through both branches and masks dropout', () => {
    const f = trainingForm(tiny());
    expect(f.graph.nodes.some((n) => n.op === 'batchNorm' || n.op === 'dropout')).toBe(false);
    expect([...f.counters.values()].every((c) => c === 2)).toBe(true);
    expect(f.dropoutMasks).toHaveLength(1);
    expect(f.dropoutMasks[0]!.p).toBe(0.5);
    // The second application reads the first one's updated running mean.
    const bn = f.graph.nodes.filter((n) => n.op === 'batchNormTrain' && n.name.endsWith('encoder.bn1'));
    expect(bn).toHaveLength(2);
    expect(bn[1]!.inputs[3]).toBe(bn[0]!.outputs[3]);
  });

  it('grad gives every trainable parameter a gradient of its shape', () => {
    const f = trainingForm(tiny());
    const g = grad(f.graph);
    for (const p of f.graph.params.filter((x) => x.trainable)) {
      const out = g.graph.outputs.find((o) => o.name === g.gradients.get(p.name))!;
      expect(g.graph.values[out.value]!.shape, p.name).toEqual(p.shape);
    }
  });

  it('refuses to differentiate eval-mode BatchNorm, naming the node and the fix', () => {
    expect(() => grad(tiny())).toThrow(/cannot differentiate node .*(batchNorm|dropout).*trainingForm/);
  });

  it('builds a whole Adam step whose outputs cover every parameter, buffer and slot', () => {
    const s = trainingStep(tiny(), { optimizer: { kind: 'adam' }, clip: { maxNorm: 1 } });
    const trainable = s.graph.params.filter((p) => p.trainable).map((p) => p.name);
    for (const p of trainable) expect(s.updates.get(p)).toBe(stepNames.next(p));
    expect(s.slots).toHaveLength(2 * trainable.length);
    expect(s.batchInputs).toEqual(['x1', 'x2', 'labels']);
    expect(s.graph.outputs.map((o) => o.name)).toContain('loss');
    expect(s.graph.outputs.some((o) => o.name === 'logit')).toBe(false);
    expect(s.frozen).toEqual([]);
  });

  it('leaves a parameter the loss does not reach alone (the head under a contrastive loss)', () => {
    const g = siameseTraining(
      { encoder: 'resnet10_w8', input: { channels: 1, height: 16, width: 16 }, combine: 'euclidean' },
      { kind: 'contrastive', margin: 1 },
    );
    const s = trainingStep(g, { optimizer: { kind: 'sgd', momentum: 0.9 } });
    expect(s.frozen.every((p) => p.startsWith('head.'))).toBe(true);
    expect(s.frozen.length).toBeGreaterThan(0);
  });
});

describe('autodiff errors', () => {
  it('refuses a parameter reached only through an op without a rule, instead of a zero gradient', async () => {
    const { GraphBuilder } = await import('../ir/builder.js');
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2, 3]);
    const w = b.param('w', [3, 4], { kind: 'zeros' });
    b.output('loss', b.op('reduceSum', [b.op('matmul', [x, w])]));
    expect(() => grad(b.build())).toThrow(
      /cannot differentiate node 'matmul' \(matmul\): it has no gradient rule/,
    );
  });

  it('builds Adam with beta1 = 0 (no averaging), as torch.optim accepts', () => {
    expect(() => trainingStep(tiny(), { optimizer: { kind: 'adam', beta1: 0, beta2: 0 } })).not.toThrow();
  });
});

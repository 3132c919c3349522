import type { TrainEvent } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { histogram, thin } from '../report/data.js';
import { renderReport } from '../report/html.js';
import { imagesPerClass } from './data.js';
import { formatDuration, progressPrinter } from './progress.js';
import { sanityChecks } from './sanity.js';
import { stallMessage } from './stall.js';

describe('sanity checks', () => {
  const base = {
    combine: 'absdiff' as const,
    scores: [0.9, 0.8, 0.2, 0.1],
    labels: [1, 1, 0, 0],
    selfScores: [0.95, 0.97],
    forward: [0.5, 0.6],
    backward: [0.5, 0.6],
    accuracy: 1,
    threshold: 0.5,
  };
  it('pass for a healthy model', () => {
    expect(sanityChecks(base).every((c) => c.ok)).toBe(true);
  });
  it('flag a low self score, asymmetry, collapse and chance accuracy', () => {
    const bad = sanityChecks({
      ...base,
      selfScores: [0.4],
      backward: [0.7, 0.6],
      scores: [0.5, 0.5, 0.5, 0.5],
      accuracy: 0.5,
    });
    expect(bad.map((c) => c.ok)).toEqual([false, false, false, false]);
    // diff is not symmetric by design: no warning for it.
    expect(sanityChecks({ ...base, combine: 'diff', backward: [0.7, 0.6] })[1]!.ok).toBe(true);
  });
});

describe('progress', () => {
  const start: TrainEvent = {
    type: 'start',
    backend: 'tfjs wasm',
    epochs: 2,
    stepsPerEpoch: 100,
    resumedAt: 0,
  };
  const step = (n: number): TrainEvent => ({
    type: 'step',
    epoch: 1,
    step: n,
    epochStep: n,
    totalSteps: 200,
    loss: 0.5,
    lr: 0.001,
    pairsPerSecond: 800,
    eta: 125,
  });
  it('prints plain lines every N steps and one per epoch when not a TTY', () => {
    const lines: string[] = [];
    const p = progressPrinter({ out: (l) => lines.push(l), err: () => {} }, { tty: false, every: 50 });
    p(start);
    for (let i = 1; i <= 100; i++) p(step(i));
    p({
      type: 'epoch',
      epoch: 1,
      trainLoss: 0.4,
      seconds: 3,
      validation: { auc: 0.99, eer: 0.03, threshold: 0.5, accuracy: 0.97, pairs: 100 },
    });
    expect(lines).toEqual([
      'training on tfjs wasm: 2 epochs of 100 steps',
      'epoch 1/2 50/100 loss 0.5000 800 pairs/s ETA 2m05s',
      'epoch 1/2 100/100 loss 0.5000 800 pairs/s ETA 2m05s',
      'epoch 1/2 train loss 0.4000 | val accuracy 97.00% AUC 0.9900 EER 3.00% (3s)',
    ]);
  });
  it('redraws one line on a TTY', () => {
    const written: string[] = [];
    const p = progressPrinter({ out: () => {}, err: () => {} }, { tty: true, write: (t) => written.push(t) });
    p(start);
    p(step(25));
    const clearLine = `\r${String.fromCharCode(27)}[2K`;
    expect(written[0]).toBe(
      `${clearLine}epoch 1/2 ${'█'.repeat(6)}${'░'.repeat(18)} 25/100 loss 0.5000 800 pairs/s ETA 2m05s`,
    );
  });
  it('formats durations', () => {
    expect([formatDuration(5), formatDuration(125), formatDuration(3725)]).toEqual(['5s', '2m05s', '1h02m']);
  });
});

describe('report', () => {
  it('is one self-contained page with the data, the threshold and escaped text', () => {
    const html = renderReport(
      {
        title: 'run <1>',
        createdAt: 'today',
        summary: [['data', 'a & b']],
        history: [{ epoch: 1, trainLoss: 0.5, auc: 0.9, accuracy: 0.8, eer: 0.2 }],
        roc: [
          { far: 0, tar: 0 },
          { far: 1, tar: 1 },
        ],
        scores: { same: [0.9, 0.8], different: [0.1] },
        threshold: 0.5,
        mistakes: [],
        checks: [{ name: 'outputs are not constant', ok: true, detail: 'fine' }],
      },
      'window.Chart = function () {};',
    );
    expect(html).toContain('<title>run &#60;1&#62;</title>');
    expect(html).toContain('a &#38; b');
    expect(html).toContain('window.Chart = function () {};');
    expect(html).toContain('"threshold":0.5');
    expect(html).not.toMatch(/<script src=/);
  });
  it('bins scores and thins long curves', () => {
    expect(histogram([0, 0.05, 0.5, 0.99, 1], 4)).toEqual([2, 0, 1, 2]);
    expect(thin([1, 2, 3, 4, 5], 3)).toEqual([1, 3, 5]);
  });
});

describe('sanity checks at scale', () => {
  it('sanity checks handle large validation sets', () => {
    const n = 200_000;
    const scores = Float32Array.from({ length: n }, (_, i) => (i % 2 ? 0.9 : 0.1));
    const labels = Float32Array.from({ length: n }, (_, i) => i % 2);
    const checks = sanityChecks({
      combine: 'absdiff',
      scores,
      labels,
      selfScores: [0.95],
      forward: [0.5],
      backward: [0.5],
      accuracy: 1,
      threshold: 0.5,
    });
    expect(checks.every((c) => c.ok)).toBe(true);
  });
});

describe('stall message', () => {
  const e = { type: 'stall', epoch: 2, epochs: 2, auc: 0.4903, below: 0.55 } as const;
  it('says what happened and, for a pair loss, to try an identity loss or a lower learning rate', () => {
    const m = stallMessage(e, { loss: { kind: 'bce' }, lr: 0.001 });
    expect(m).toMatch(/^validation AUC has stayed below 0.55 for 2 epochs \(0.490 after epoch 2\)/);
    expect(m).toContain('--loss cosface');
    expect(m).toContain('--lr 0.00033');
    expect(m).not.toContain('\n');
  });
  it('does not send an identity-loss run to an identity loss', () => {
    const m = stallMessage(e, { loss: { kind: 'cosface' }, lr: 0.003 });
    expect(m).not.toContain('--loss cosface');
    expect(m).toContain('--lr 0.001');
    expect(m).toContain('--margin');
  });
});

describe('identity batches', () => {
  it('hold as many images of each class as fit the classes there are', () => {
    expect(imagesPerClass(32, 7)).toBe(8);
    expect(imagesPerClass(32, 8)).toBe(4);
    expect(imagesPerClass(32, 100)).toBe(2);
    expect(imagesPerClass(30, 2)).toBe(15);
    expect(imagesPerClass(7, 3)).toBe(7);
    expect(() => imagesPerClass(1, 3)).toThrow(
      /--batch-size 1 cannot be split into batches of whole classes/,
    );
  });
});

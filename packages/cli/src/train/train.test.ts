import type { TrainEvent } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { histogram, thin } from '../report/data.js';
import { renderReport } from '../report/html.js';
import { calibrateThreshold, fitLogistic } from './calibrate.js';
import { formatDuration, progressPrinter } from './progress.js';
import { sanityChecks } from './sanity.js';

describe('calibration', () => {
  it('fits the logistic scale and bias of a distance head', () => {
    // Labels drawn from p = sigmoid(-3 d + 2) on a grid of distances, in expectation (weights as counts).
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i <= 200; i++) {
      const d = i / 50;
      const p = 1 / (1 + Math.exp(-(-3 * d + 2)));
      const n = 100;
      const same = Math.round(p * n);
      for (let k = 0; k < n; k++) {
        x.push(d);
        y.push(k < same ? 1 : 0);
      }
    }
    const { w, b } = fitLogistic(x, y);
    expect(w).toBeCloseTo(-3, 1);
    expect(b).toBeCloseTo(2, 1);
  });

  it('stays finite on separable data', () => {
    const { w, b } = fitLogistic([0.1, 0.2, 0.9, 1.0], [1, 1, 0, 0]);
    expect(Number.isFinite(w) && Number.isFinite(b)).toBe(true);
    expect(w).toBeLessThan(0);
  });

  it('puts the threshold at the equal error rate, or at a target false-accept rate', () => {
    const p = [0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.05];
    const l = [1, 1, 1, 1, 0, 0, 0, 0];
    const eer = calibrateThreshold(p, l);
    expect(eer.method).toBe('eer');
    expect(eer.probability).toBeGreaterThan(0.3);
    expect(eer.probability).toBeLessThanOrEqual(0.7);
    expect(calibrateThreshold(p, l, 0)).toEqual({ probability: 0.7, method: 'far', targetFar: 0 });
  });
});

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

describe('calibration edge cases', () => {
  it('accepts nothing when even the top score breaks the false-accept target, also at a probability of exactly 1', () => {
    const t = calibrateThreshold([1, 1, 0.9, 0.2], [0, 1, 1, 0], 0.01);
    expect(t.probability).toBeGreaterThan(1);
    expect(JSON.parse(JSON.stringify(t)).probability).toBeGreaterThan(1);
  });
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

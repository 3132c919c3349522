import { describe, expect, it } from 'vitest';
import { Random } from '../nn/random.js';
import { nWayAccuracy, retrievalMetrics } from './oneshot.js';
import { equalErrorRate, pairAccuracy, rocAuc, rocCurve, thresholdAtFar } from './roc.js';

describe('ROC metrics', () => {
  it('AUC is 1 for a perfect ranking, 0 for a reversed one, 0.5 for all ties', () => {
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0])).toBe(1);
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
  });

  it('AUC equals the Mann-Whitney probability on random scores', () => {
    const r = new Random(1);
    const scores = Array.from({ length: 300 }, () => Math.round(r.uniform() * 20) / 20);
    const labels = Array.from({ length: 300 }, (_, i) => (r.uniform() < 0.3 + 0.4 * scores[i]! ? 1 : 0));
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < 300; i++)
      for (let j = 0; j < 300; j++)
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
        }
    expect(rocAuc(scores, labels)).toBeCloseTo(wins / pairs, 12);
  });

  it('the curve runs from (0,0) to (1,1) and moves ties together', () => {
    const c = rocCurve([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    expect(c.map((p) => [p.far, p.tar])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
  });

  it('EER is where false accepts equal false rejects', () => {
    // 4 same pairs, 4 different; one of each is on the wrong side.
    const scores = [0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.05];
    const labels = [1, 1, 1, 1, 0, 0, 0, 0];
    const { eer, threshold } = equalErrorRate(scores, labels);
    expect(eer).toBeCloseTo(0.25, 10);
    expect(pairAccuracy(scores, labels, threshold)).toBeCloseTo(0.75, 10);
    expect(equalErrorRate([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]).eer).toBe(0);
  });

  it('finds the threshold for a target false-accept rate', () => {
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
    const labels = [1, 0, 1, 1, 0, 1, 0, 0];
    expect(thresholdAtFar(scores, labels, 0)).toEqual({ threshold: 0.9, far: 0, tar: 0.25 });
    expect(thresholdAtFar(scores, labels, 0.25)).toEqual({ threshold: 0.6, far: 0.25, tar: 0.75 });
  });

  it('rejects one-class or mismatched input with a clear message', () => {
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(
      /need both same and different pairs, got 2 same and 0 different/,
    );
    expect(() => rocAuc([0.1], [1, 0])).toThrow(/1 scores but 2 labels/);
    expect(() => rocAuc([Number.NaN, 0.2], [1, 0])).toThrow(/score 0 is NaN/);
  });
});

describe('one-shot and retrieval', () => {
  it('N-way accuracy counts trials whose correct candidate wins outright', () => {
    expect(
      nWayAccuracy([
        { scores: [0.1, 0.9, 0.3], correct: 1 },
        { scores: [0.8, 0.9, 0.3], correct: 0 },
        { scores: [0.5, 0.5], correct: 0 },
      ]),
    ).toBeCloseTo(1 / 3, 12);
  });

  it('precision@1 and MAP@R on a known ranking', () => {
    // Points on a line; classes 0,0,1,1,1; similarity = -distance.
    const x = [0, 1, 10, 11, 20];
    const labels = [0, 0, 1, 1, 1];
    const m = retrievalMetrics(labels, (i, j) => -Math.abs(x[i]! - x[j]!));
    // Query 4 (x=20): nearest is 11 (same) then 10 (same): AP 1. Query 2 (x=10): 11 same, then 1 (different): R=2, AP = 1/2.
    // Queries 0,1,3: perfect. MAP@R = (1 + 1 + 0.5 + 1 + 1) / 5.
    expect(m.precisionAt1).toBe(1);
    expect(m.mapAtR).toBeCloseTo(4.5 / 5, 12);
  });
});

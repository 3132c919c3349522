/**
 * The int8 verdict: the targets hold at their edge (an accuracy drop of exactly 0.5 points is
 * 5 pairs in 1000, whatever float rounding says), a miss is refused unless --accept-drop, and the
 * int8 threshold is re-fitted by the fp32 threshold's own rule.
 */
import type { QuantizationComparison } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { INT8_TARGETS, judge, refitThreshold, withinTargets } from './compare.js';

function comparison(
  fp32: { auc: number; accuracy: number },
  int8: { auc: number; accuracy: number },
): QuantizationComparison {
  const aucDrop = fp32.auc - int8.auc;
  const accuracyDrop = fp32.accuracy - int8.accuracy;
  return {
    data: 'held-out',
    pairs: 1000,
    fp32: { ...fp32, threshold: 0.5 },
    int8: { ...int8, threshold: 0.5 },
    aucDrop,
    accuracyDrop,
    maxAbsProbabilityDelta: 0.01,
    meanAbsProbabilityDelta: 0.001,
    targets: { ...INT8_TARGETS },
    accepted: 'within-targets',
  };
}

describe('the int8 verdict', () => {
  it('holds at the targets and fails just past them', () => {
    expect(withinTargets(comparison({ auc: 0.99, accuracy: 0.984 }, { auc: 0.988, accuracy: 0.979 }))).toBe(
      true,
    );
    expect(withinTargets(comparison({ auc: 0.99, accuracy: 0.984 }, { auc: 0.99, accuracy: 0.978 }))).toBe(
      false,
    );
    expect(withinTargets(comparison({ auc: 0.99, accuracy: 0.98 }, { auc: 0.9879, accuracy: 0.98 }))).toBe(
      false,
    );
    // int8 better than fp32 is fine.
    expect(withinTargets(comparison({ auc: 0.9, accuracy: 0.8 }, { auc: 0.91, accuracy: 0.81 }))).toBe(true);
  });

  it('refuses a miss in one line naming what to try, or warns with --accept-drop', () => {
    const miss = comparison({ auc: 0.99, accuracy: 0.98 }, { auc: 0.98, accuracy: 0.96 });
    expect(() => judge(miss, false)).toThrow(
      /^int8 costs AUC -0\.0100, accuracy -2\.00 pt on held-out pairs, more than the targets .*nothing written\. Try --calibration-method percentile or entropy, more --calibration-images, or pass --accept-drop/,
    );
    expect(judge(miss, true)).toMatch(/written anyway \(--accept-drop\)$/);
    expect(
      judge(comparison({ auc: 0.99, accuracy: 0.98 }, { auc: 0.99, accuracy: 0.98 }), false),
    ).toBeUndefined();
  });

  it("re-fits the threshold by the fp32 threshold's rule", () => {
    const scored = {
      probabilities: Float32Array.from([0.1, 0.2, 0.3, 0.6, 0.7, 0.8]),
      labels: Float32Array.from([0, 0, 0, 1, 1, 1]),
    };
    const eer = refitThreshold({ probability: 0.9, method: 'eer' }, scored);
    expect(eer.method).toBe('eer');
    expect(eer.probability).toBeGreaterThan(0.3);
    expect(eer.probability).toBeLessThanOrEqual(0.6 + 1e-6);
    expect(refitThreshold({ probability: 0.9, method: 'far', targetFar: 0 }, scored)).toMatchObject({
      method: 'far',
      targetFar: 0,
    });
    expect(refitThreshold({ probability: 0.42, method: 'fixed' }, scored)).toEqual({
      probability: 0.42,
      method: 'fixed',
    });
  });
});

/** How the int8 comparison reads, in `siamese export` and `siamese info`. */
import type { QuantizationComparison } from '@siamese/core';
import { count } from '../infer/data.js';

export const pct = (x: number): string => `${(x * 100).toFixed(2)} pt`;
/** `AUC -0.0004, accuracy +0.10 pt`: int8's change from fp32 (a drop shows as minus). */
export const drops = (c: QuantizationComparison): string =>
  `AUC ${c.aucDrop > 0 ? '-' : '+'}${Math.abs(c.aucDrop).toFixed(4)}, accuracy ${c.accuracyDrop > 0 ? '-' : '+'}${pct(Math.abs(c.accuracyDrop))}`;

/** The comparison as `siamese export` and `siamese info` print it. */
export function comparisonLines(c: QuantizationComparison): string[] {
  const row = (label: string, a: string, b: string) =>
    `  ${label.padEnd(22)}${a.padStart(10)}${b.padStart(10)}`;
  return [
    row('', 'fp32', 'int8'),
    row('ROC AUC', c.fp32.auc.toFixed(4), c.int8.auc.toFixed(4)),
    row('accuracy', `${(c.fp32.accuracy * 100).toFixed(2)}%`, `${(c.int8.accuracy * 100).toFixed(2)}%`),
    row('threshold', c.fp32.threshold.toFixed(4), c.int8.threshold.toFixed(4)),
    `  |Δ probability|: max ${c.maxAbsProbabilityDelta.toFixed(4)}, mean ${c.meanAbsProbabilityDelta.toFixed(4)} over ${count(c.pairs, 'pair')}; int8 vs fp32: ${drops(c)}${c.accepted === 'within-targets' ? ' (within targets)' : ' (beyond targets: --accept-drop)'}`,
  ];
}

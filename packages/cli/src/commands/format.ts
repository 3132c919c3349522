/** Shared bits of plain-text output. */
import type { DeviceReport } from '@siamese/backend-onnx';
import type { Threshold } from '@siamese/core';

/** `0.6200, calibrated at the equal error rate` */
export function thresholdText(t: Threshold): string {
  const how =
    t.method === 'eer'
      ? 'calibrated at the equal error rate'
      : t.method === 'far'
        ? `calibrated for FAR ${t.targetFar ?? '?'}`
        : 'fixed';
  return `${t.probability.toFixed(4)}, ${how}`;
}

/** `device      onnxruntime cpu (requested auto; cuda not used: ...)` */
/** Where the model ran, and in which precision when that is int8. */
export function deviceLine(r: DeviceReport, precision = 'fp32'): string {
  const failed = r.attempts.filter((a) => !a.ok).map((a) => `${a.provider} not used: ${a.error}`);
  const int8 = precision === 'fp32' ? '' : `, ${precision} model`;
  return `device      onnxruntime ${r.provider}${int8} (requested ${r.requested}${failed.length ? `; ${failed.join('; ')}` : ''})`;
}

export function fixed(v: number, digits = 4): string {
  return v.toFixed(digits);
}

export function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * Backward rules of identity classification (marginLogits, softmaxCrossEntropy, softmax), in IR ops:
 * the target column is picked with `oneHot`, and arcface's branches are selected with `reluGrad`
 * gates (a where b > 0), the same strict comparisons the forward makes. Labels get no gradient.
 */
import type { Value } from '../ir/types.js';
import type { NoAttrs } from '../ops/elementwise.js';
import {
  ARCFACE_SINE2_EPS,
  arcfaceConstants,
  type MarginLogitsAttrs,
  type SoftmaxAttrs,
} from '../ops/identity.js';
import { onlyDy, type VjpRule } from './rule.js';

/**
 * dcosine = dy * s off the target column; at the target dy * s * dphi/dcos: 1 for normface and
 * cosface; for arcface cos(m) + sin(m) * cos / sqrt(max(1 - cos^2, ARCFACE_SINE2_EPS)) where phi
 * applies (cos > cos(pi - m), or cos > 0 with easyMargin), 1 in the fallback.
 */
export const marginLogits: VjpRule<MarginLogitsAttrs> = (args) => {
  const { b, attrs: a } = args;
  const dy = onlyDy(args);
  if (a.kind !== 'arcface') return [b.op('scale', [dy], { alpha: a.scale }, 'dcosine'), undefined];
  const [cos, labels] = args.inputs as [Value, Value];
  const k = arcfaceConstants(a.margin);
  const hot = b.op('oneHot', [labels, cos], {}, 'target');
  // The target cosine of each row [N, 1] (exact: one term, the rest zeros).
  const t = b.op(
    'reduceSum',
    [b.op('mul', [hot, cos], {}, 'target.masked')],
    { axes: [1], keepDims: true },
    'target.cos',
  );
  // 1 - t^2 as (1 - t)(1 + t): no cancellation near |t| = 1.
  const sine2 = b.op(
    'mul',
    [
      b.op('scale', [t], { alpha: -1, beta: 1 }, 'one_minus'),
      b.op('scale', [t], { alpha: 1, beta: 1 }, 'one_plus'),
    ],
    {},
    'sine2',
  );
  const sine = b.op(
    'sqrt',
    [b.op('clamp', [sine2], { min: ARCFACE_SINE2_EPS }, 'sine2.clamped')],
    {},
    'sine',
  );
  // dphi/dcos - 1, the extra slope over the fallback's 1.
  const extra = b.op(
    'scale',
    [b.op('div', [t, sine], {}, 'cot')],
    { alpha: k.sinM, beta: k.cosM - 1 },
    'extra',
  );
  const gate = a.easyMargin ? t : b.op('scale', [t], { beta: -k.th }, 'above_th');
  const gated = b.op('reluGrad', [extra, gate], {}, 'extra.gated');
  // s * (1 + onehot * extra) broadcast over the row.
  const slope = b.op(
    'scale',
    [b.op('mul', [hot, gated], {}, 'extra.target')],
    { alpha: a.scale, beta: a.scale },
    'slope',
  );
  return [b.op('mul', [dy, slope], {}, 'dcosine'), undefined];
};

/** dlogits = (softmax(logits) - onehot(labels)) * dy / N. */
export const softmaxCrossEntropy: VjpRule<NoAttrs> = (args) => {
  const { b } = args;
  const [z, labels] = args.inputs as [Value, Value];
  const residual = b.op(
    'sub',
    [b.op('softmax', [z], { axis: 1 }, 'p'), b.op('oneHot', [labels, z], {}, 'target')],
    {},
    'residual',
  );
  const perRow = b.op('div', [onlyDy(args), b.op('numel', [z], { axes: [0] }, 'rows')], {}, 'per_row');
  return [b.op('mul', [residual, perRow], {}, 'dlogits'), undefined];
};

/** dx = y * (dy - sum(dy * y, axis)). */
export const softmax: VjpRule<SoftmaxAttrs> = (args) => {
  const { b, attrs: a } = args;
  const y = args.outputs[0]!;
  const dy = onlyDy(args);
  const dot = b.op(
    'reduceSum',
    [b.op('mul', [dy, y], {}, 'dy_y')],
    { axes: [a.axis], keepDims: true },
    'dot',
  );
  return [b.op('mul', [y, b.op('sub', [dy, dot], {}, 'centred')], {}, 'dx')];
};

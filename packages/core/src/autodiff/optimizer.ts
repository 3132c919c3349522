/**
 * Optimizer updates as IR subgraphs, term for term torch.optim's: each parameter's new value and new
 * slots from its gradient, the learning rate `lr` and the 1-based step count `step` (both scalar
 * graph inputs, so one compiled step serves a whole schedule).
 */
import type { GraphBuilder } from '../ir/builder.js';
import type { Value } from '../ir/types.js';
import type { ClipConfig, OptimizerConfig } from '../optimizer/config.js';

export interface ParamUpdate {
  readonly param: Value;
  readonly grad: Value;
  /** Current slot values by slot name. */
  readonly slots: ReadonlyMap<string, Value>;
}

export interface UpdateResult {
  readonly param: Value;
  readonly slots: Map<string, Value>;
}

/** clip_grad_value_ then clip_grad_norm_ (global L2 norm, with torch's 1e-6). */
export function clipGradients(b: GraphBuilder, grads: readonly Value[], c: ClipConfig): Value[] {
  let out = [...grads];
  if (c.maxValue !== undefined) {
    out = out.map((g, i) => b.op('clamp', [g], { min: -c.maxValue!, max: c.maxValue! }, `clip.value${i}`));
  }
  if (c.maxNorm !== undefined && out.length > 0) {
    const squares = out.map((g, i) =>
      b.op('reduceSum', [b.op('mul', [g, g], {}, `clip.sq${i}`)], {}, `clip.sum${i}`),
    );
    const total = squares.reduce((acc, s, i) => (i === 0 ? s : b.op('add', [acc, s], {}, `clip.total${i}`)));
    const norm = b.op('scale', [b.op('sqrt', [total], {}, 'clip.norm')], { beta: 1e-6 }, 'clip.norm_eps');
    const ratio = b.op(
      'div',
      [b.op('scale', [norm], { alpha: 0, beta: c.maxNorm }, 'clip.max'), norm],
      {},
      'clip.ratio',
    );
    const coef = b.op('clamp', [ratio], { max: 1 }, 'clip.coef');
    out = out.map((g, i) => b.op('mul', [g, coef], {}, `clip.scaled${i}`));
  }
  return out;
}

/** Scalars shared by every parameter's update, computed once per step from `lr` and `step`. */
export interface StepScalars {
  readonly lr: Value;
  readonly step: Value;
}

export function updateParam(
  b: GraphBuilder,
  c: OptimizerConfig,
  s: StepScalars,
  u: ParamUpdate,
  shared: Map<string, Value>,
): UpdateResult {
  const once = (key: string, make: () => Value): Value => {
    let v = shared.get(key);
    if (!v) {
      v = make();
      shared.set(key, v);
    }
    return v;
  };
  const wd = c.weightDecay ?? (c.kind === 'adamw' ? 0.01 : 0);
  const { param: p } = u;
  const slots = new Map<string, Value>();
  const lrTimes = (v: Value, tag: string): Value => b.op('mul', [v, s.lr], {}, tag);

  if (c.kind === 'sgd') {
    let d =
      wd > 0 ? b.op('add', [u.grad, b.op('scale', [p], { alpha: wd }, 'decay')], {}, 'grad_decayed') : u.grad;
    const mu = c.momentum ?? 0;
    if (mu > 0) {
      const damp = c.dampening ?? 0;
      // torch starts the buffer at the first gradient, undamped: the gradient's weight is 1 at step 1.
      const weight = once('sgd.weight', () => {
        const first = b.op(
          'clamp',
          [b.op('scale', [s.step], { alpha: -1, beta: 2 }, 'sgd.first_raw')],
          { min: 0, max: 1 },
          'sgd.first',
        );
        return b.op('scale', [first], { alpha: damp, beta: 1 - damp }, 'sgd.grad_weight');
      });
      const buf = u.slots.get('momentum_buffer')!;
      const next = b.op(
        'add',
        [b.op('scale', [buf], { alpha: mu }, 'momentum'), b.op('mul', [d, weight], {}, 'grad_weighted')],
        {},
        'momentum_buffer',
      );
      slots.set('momentum_buffer', next);
      d = c.nesterov
        ? b.op('add', [d, b.op('scale', [next], { alpha: mu }, 'lookahead')], {}, 'nesterov')
        : next;
    }
    return { param: b.op('sub', [p, lrTimes(d, 'delta')], {}, 'param'), slots };
  }

  const b1 = c.beta1 ?? 0.9;
  const b2 = c.beta2 ?? 0.999;
  const eps = c.eps ?? 1e-8;
  // Bias corrections 1 - beta^step = 1 - exp(step * ln beta).
  // (beta = 0, torch's "no averaging", corrects by 1.)
  const correction = (beta: number, tag: string): Value =>
    once(tag, () =>
      beta === 0
        ? b.op('scale', [s.step], { alpha: 0, beta: 1 }, tag)
        : b.op(
            'scale',
            [
              b.op(
                'exp',
                [b.op('scale', [s.step], { alpha: Math.log(beta) }, `${tag}.log`)],
                {},
                `${tag}.pow`,
              ),
            ],
            { alpha: -1, beta: 1 },
            tag,
          ),
    );
  const stepSize = once('adam.step_size', () =>
    b.op('div', [s.lr, correction(b1, 'adam.bc1')], {}, 'adam.step_size'),
  );
  const rootBc2 = once('adam.root_bc2', () =>
    b.op('sqrt', [correction(b2, 'adam.bc2')], {}, 'adam.root_bc2'),
  );

  let g = u.grad;
  let base = p;
  if (c.kind === 'adam' && wd > 0)
    g = b.op('add', [g, b.op('scale', [p], { alpha: wd }, 'decay')], {}, 'grad_decayed');
  if (c.kind === 'adamw' && wd > 0) {
    const keep = once('adamw.keep', () => b.op('scale', [s.lr], { alpha: -wd, beta: 1 }, 'adamw.keep'));
    base = b.op('mul', [p, keep], {}, 'decayed');
  }
  const m = b.op(
    'add',
    [
      b.op('scale', [u.slots.get('exp_avg')!], { alpha: b1 }, 'm.old'),
      b.op('scale', [g], { alpha: 1 - b1 }, 'm.new'),
    ],
    {},
    'exp_avg',
  );
  const g2 = b.op('mul', [g, g], {}, 'grad_sq');
  const v = b.op(
    'add',
    [
      b.op('scale', [u.slots.get('exp_avg_sq')!], { alpha: b2 }, 'v.old'),
      b.op('scale', [g2], { alpha: 1 - b2 }, 'v.new'),
    ],
    {},
    'exp_avg_sq',
  );
  slots.set('exp_avg', m);
  slots.set('exp_avg_sq', v);
  // torch's m / (sqrt(v) / sqrt(bc2) + eps) * lr / bc1, with sqrt(bc2) folded into the two scalars
  // (one pass fewer over every parameter): m / (sqrt(v) + eps * sqrt(bc2)) * (lr * sqrt(bc2) / bc1).
  const epsScaled = once('adam.eps_scaled', () =>
    b.op('scale', [rootBc2], { alpha: eps }, 'adam.eps_scaled'),
  );
  const stepScaled = once('adam.step_scaled', () => b.op('mul', [stepSize, rootBc2], {}, 'adam.step_scaled'));
  const denom = b.op('add', [b.op('sqrt', [v], {}, 'v.root'), epsScaled], {}, 'denom');
  const delta = b.op('mul', [b.op('div', [m, denom], {}, 'direction'), stepScaled], {}, 'delta');
  return { param: b.op('sub', [base, delta], {}, 'param'), slots };
}

/**
 * Optimizer and clipping settings shared by every backend and by core's autodiff training step, with
 * PyTorch's update rules (torch.optim SGD, Adam, AdamW; clip_grad_value_ then clip_grad_norm_) and
 * state slots named like torch's. Re-exported by train/ (the public API is unchanged).
 */
export type OptimizerConfig =
  | {
      readonly kind: 'sgd';
      readonly momentum?: number;
      readonly dampening?: number;
      readonly nesterov?: boolean;
      /** L2 penalty added to the gradient. */
      readonly weightDecay?: number;
    }
  | {
      readonly kind: 'adam' | 'adamw';
      readonly beta1?: number;
      readonly beta2?: number;
      readonly eps?: number;
      /** Adam: L2 added to the gradient. AdamW: decoupled decay, p *= 1 - lr * wd (default 0.01). */
      readonly weightDecay?: number;
    };

export interface ClipConfig {
  /** Scale all gradients so their global L2 norm is at most this. */
  readonly maxNorm?: number;
  /** Clamp every gradient element to [-maxValue, maxValue] (applied before maxNorm). */
  readonly maxValue?: number;
}

/**
 * A parameter group: the parameters whose names start with `prefix` train at `lrFactor` times the
 * step's learning rate (torch.optim's param_groups with their own `lr`, as a factor so one schedule
 * drives every group). The first matching group wins; unmatched parameters use factor 1.
 */
export interface ParamGroup {
  readonly prefix: string;
  readonly lrFactor: number;
}

/** Throws an Error naming the bad group. */
export function checkParamGroups(groups: readonly ParamGroup[]): void {
  for (const [i, g] of groups.entries()) {
    if (typeof g.prefix !== 'string' || g.prefix === '')
      throw new Error(`paramGroups[${i}]: prefix must be a non-empty string`);
    if (!(Number.isFinite(g.lrFactor) && g.lrFactor >= 0))
      throw new Error(`paramGroups[${i}] ('${g.prefix}'): lrFactor must be a number >= 0, got ${g.lrFactor}`);
  }
}

/** The learning-rate factor of parameter `name` under `groups`. */
export function lrFactorOf(groups: readonly ParamGroup[], name: string): number {
  return groups.find((g) => name.startsWith(g.prefix))?.lrFactor ?? 1;
}

/** Slot names per parameter (`exp_avg`, `exp_avg_sq`, `momentum_buffer`). */
export function slotNames(c: OptimizerConfig): readonly string[] {
  if (c.kind === 'sgd') return (c.momentum ?? 0) > 0 ? ['momentum_buffer'] : [];
  return ['exp_avg', 'exp_avg_sq'];
}

/** Throws an Error naming the bad setting. */
export function checkOptimizer(c: OptimizerConfig): void {
  const bad = (what: string): never => {
    throw new Error(`optimizer ${c.kind}: ${what}`);
  };
  if (!['sgd', 'adam', 'adamw'].includes(c.kind)) bad(`kind must be sgd, adam or adamw`);
  if ((c.weightDecay ?? 0) < 0) bad(`weightDecay must be >= 0, got ${c.weightDecay}`);
  if (c.kind === 'sgd') {
    const m = c.momentum ?? 0;
    if (m < 0) bad(`momentum must be >= 0, got ${m}`);
    if (c.nesterov && (m <= 0 || (c.dampening ?? 0) !== 0))
      bad('nesterov needs momentum > 0 and dampening 0');
  } else {
    for (const [k, v] of [
      ['beta1', c.beta1 ?? 0.9],
      ['beta2', c.beta2 ?? 0.999],
    ] as const) {
      if (!(v >= 0 && v < 1)) bad(`${k} must be in [0, 1), got ${v}`);
    }
  }
}

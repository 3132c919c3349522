/** Learning-rate schedules as pure functions of the global step. */

export type Schedule =
  | { readonly kind: 'constant' }
  /** Multiply by `gamma` every `everySteps` steps. */
  | { readonly kind: 'step'; readonly everySteps: number; readonly gamma: number }
  /** Cosine from the base rate down to `minFactor` x base over the whole run. */
  | { readonly kind: 'cosine'; readonly minFactor?: number };

export interface ScheduleConfig {
  readonly lr: number;
  readonly schedule: Schedule;
  /** Linear warm-up from ~0 to `lr` over the first steps. */
  readonly warmupSteps?: number;
}

export function learningRate(c: ScheduleConfig, step: number, totalSteps: number): number {
  const warm = c.warmupSteps ?? 0;
  if (step < warm) return (c.lr * (step + 1)) / warm;
  const s = c.schedule;
  switch (s.kind) {
    case 'constant':
      return c.lr;
    case 'step':
      return c.lr * s.gamma ** Math.floor(step / s.everySteps);
    case 'cosine': {
      const span = Math.max(1, totalSteps - warm);
      const t = Math.min(1, (step - warm) / span);
      const min = s.minFactor ?? 0;
      return c.lr * (min + ((1 - min) * (1 + Math.cos(Math.PI * t))) / 2);
    }
  }
}

/** One line naming the field at fault, or undefined when the config is usable. */
export function checkSchedule(c: ScheduleConfig): string | undefined {
  if (!(c.lr > 0 && Number.isFinite(c.lr))) return `lr must be a positive number, got ${c.lr}`;
  if (c.warmupSteps !== undefined && !(Number.isInteger(c.warmupSteps) && c.warmupSteps >= 0)) {
    return `warmupSteps must be a non-negative integer, got ${c.warmupSteps}`;
  }
  const s = c.schedule;
  if (s.kind === 'step' && !(Number.isInteger(s.everySteps) && s.everySteps > 0 && s.gamma > 0)) {
    return `step schedule needs everySteps > 0 and gamma > 0, got ${JSON.stringify(s)}`;
  }
  if (s.kind === 'cosine' && s.minFactor !== undefined && !(s.minFactor >= 0 && s.minFactor <= 1)) {
    return `cosine schedule minFactor must be in [0, 1], got ${s.minFactor}`;
  }
  if (!['constant', 'step', 'cosine'].includes(s.kind))
    return `schedule kind must be constant, step or cosine, got '${(s as { kind: string }).kind}'`;
  return undefined;
}

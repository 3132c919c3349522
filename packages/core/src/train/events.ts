/** Progress events the loop emits; the CLI turns them into bars or plain lines. */

export interface ValidationMetrics {
  readonly loss?: number;
  /** ROC AUC over validation pairs. */
  readonly auc: number;
  /** Equal error rate and the score threshold there. */
  readonly eer: number;
  readonly threshold: number;
  /** Pair accuracy at that threshold. */
  readonly accuracy: number;
  readonly pairs: number;
}

/** One finished epoch, as the loop records it in `TrainResult.history` and checkpoints keep it. */
export interface EpochRecord {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly validation?: ValidationMetrics;
  readonly seconds: number;
}

export type TrainEvent =
  | {
      readonly type: 'start';
      readonly backend: string;
      readonly epochs: number;
      readonly stepsPerEpoch: number;
      readonly resumedAt: number;
    }
  | {
      readonly type: 'step';
      readonly epoch: number;
      /** Global step, counted from the start of the run (resumes continue it). */
      readonly step: number;
      /** Step within this epoch, from 1 (an interrupted epoch restarts from 1 on resume). */
      readonly epochStep: number;
      readonly totalSteps: number;
      readonly loss: number;
      readonly lr: number;
      /** Examples per second over the recent steps. */
      readonly pairsPerSecond: number;
      /** Seconds left at the recent rate. */
      readonly eta: number;
    }
  | {
      readonly type: 'epoch';
      readonly epoch: number;
      readonly trainLoss: number;
      readonly validation?: ValidationMetrics;
      readonly seconds: number;
    }
  | {
      readonly type: 'checkpoint';
      readonly path: string;
      readonly reason: 'epoch' | 'best' | 'interrupted' | 'final';
    }
  | {
      /**
       * Validation AUC has stayed below `below` for the last `epochs` epochs: the model is not
       * learning to separate (emitted once per run).
       */
      readonly type: 'stall';
      readonly epoch: number;
      readonly epochs: number;
      readonly auc: number;
      readonly below: number;
    }
  | {
      readonly type: 'stop';
      readonly reason: 'completed' | 'early-stopping' | 'interrupted';
      readonly epoch: number;
      readonly step: number;
    };

/** When training counts as stalled: validation AUC below `below` for `epochs` epochs in a row. */
export interface StallConfig {
  /** Default 0.55: barely better than chance. */
  readonly below?: number;
  /** Default 2. */
  readonly epochs?: number;
}

/** The stall the history shows after its last epoch, if it has just begun (exactly `epochs` low epochs). */
export function stallAt(
  history: readonly EpochRecord[],
  c: StallConfig = {},
): Extract<TrainEvent, { type: 'stall' }> | undefined {
  const below = c.below ?? 0.55;
  const epochs = c.epochs ?? 2;
  const low = (r: EpochRecord | undefined): boolean =>
    r?.validation !== undefined && r.validation.auc < below;
  let run = 0;
  for (let i = history.length - 1; i >= 0 && low(history[i]); i--) run++;
  if (run !== epochs) return undefined;
  const last = history.at(-1)!;
  return { type: 'stall', epoch: last.epoch, epochs, auc: last.validation!.auc, below };
}

/** Throughput over a sliding window of steps, robust to a slow first step. */
export class RateMeter {
  private readonly samples: { t: number; n: number }[] = [];

  constructor(private readonly window = 20) {}

  add(seconds: number, examples: number): void {
    this.samples.push({ t: seconds, n: examples });
    if (this.samples.length > this.window) this.samples.shift();
  }

  get perSecond(): number {
    const t = this.samples.reduce((a, s) => a + s.t, 0);
    const n = this.samples.reduce((a, s) => a + s.n, 0);
    return t > 0 ? n / t : 0;
  }
}

/** Stops training when a validation metric has not improved for `patience` epochs. */

export interface EarlyStoppingConfig {
  /** Metric name from the validation results, e.g. 'loss' or 'auc'. */
  readonly metric: string;
  readonly mode: 'min' | 'max';
  readonly patience: number;
  /** Smallest change that counts as an improvement. */
  readonly minDelta?: number;
}

export class EarlyStopping {
  private bestValue: number | undefined;
  private bestEpoch = -1;
  private waited = 0;

  constructor(readonly config: EarlyStoppingConfig) {}

  /** Records an epoch's value; returns whether it is the best so far. */
  update(epoch: number, value: number): boolean {
    const d = this.config.minDelta ?? 0;
    const better =
      this.bestValue === undefined ||
      (this.config.mode === 'min' ? value < this.bestValue - d : value > this.bestValue + d);
    if (better) {
      this.bestValue = value;
      this.bestEpoch = epoch;
      this.waited = 0;
    } else {
      this.waited++;
    }
    return better;
  }

  get shouldStop(): boolean {
    return this.waited >= this.config.patience;
  }

  get best(): { epoch: number; value: number } | undefined {
    return this.bestValue === undefined ? undefined : { epoch: this.bestEpoch, value: this.bestValue };
  }

  /** State to put in a checkpoint, so a resumed run keeps counting. */
  toJSON(): { bestValue?: number; bestEpoch: number; waited: number } {
    return {
      ...(this.bestValue !== undefined ? { bestValue: this.bestValue } : {}),
      bestEpoch: this.bestEpoch,
      waited: this.waited,
    };
  }

  restore(s: { bestValue?: number; bestEpoch: number; waited: number }): void {
    this.bestValue = s.bestValue;
    this.bestEpoch = s.bestEpoch;
    this.waited = s.waited;
  }
}

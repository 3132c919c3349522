/**
 * What `siamese eval` reports: verification, one-shot and retrieval metrics, each of which may
 * instead say why it was skipped, and how much encoder and head work the evaluation took.
 */

export interface PairMetrics {
  readonly source: 'sampled' | 'listed';
  /** For listed pairs: how many the CSV had. */
  readonly listed?: number;
  readonly count: number;
  readonly same: number;
  readonly different: number;
  readonly rocAuc: number;
  readonly eer: number;
  /** Probabilities (the model's units); null when no threshold meets the target. */
  readonly eerThreshold: number;
  readonly accuracyAtEer: number;
  readonly modelThreshold: {
    readonly probability: number;
    readonly method: string;
    readonly accuracy: number;
  } | null;
  readonly atFar: {
    readonly target: number;
    readonly threshold: number | null;
    readonly far: number;
    readonly tar: number;
  };
  readonly notes: readonly string[];
}

export interface OneShotMetrics {
  readonly way: number;
  readonly episodes: number;
  readonly trials: number;
  readonly protocol: 'within-alphabet' | 'across-classes';
  readonly accuracy: number;
  readonly notes: readonly string[];
}

export interface RetrievalMetrics {
  readonly gallery: number;
  readonly classes: number;
  readonly precisionAt1: number;
  readonly mapAtR: number;
}

export interface Skipped {
  readonly skipped: string;
}

export interface EvalReport {
  /** Distinct images embedded (the encoder's work). */
  readonly embedded: number;
  /** Pairs scored by the head (the head's work). */
  readonly headScores: number;
  readonly pairs: PairMetrics | Skipped;
  readonly oneShot: OneShotMetrics | Skipped;
  readonly retrieval: RetrievalMetrics | Skipped;
}

export function isSkipped(v: unknown): v is Skipped {
  return typeof v === 'object' && v !== null && 'skipped' in v;
}

/** The decision threshold on the match probability, and how it was chosen. */
export interface Threshold {
  /** Pairs with probability >= this are declared the same. */
  readonly probability: number;
  /** `eer`: equal error rate on validation pairs; `far`: the target false-accept rate below. */
  readonly method: 'eer' | 'far' | 'fixed';
  readonly targetFar?: number;
}

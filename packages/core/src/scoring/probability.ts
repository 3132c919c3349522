/** The head's logit and the match probability, one definition for every backend and command. */

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The logit of a probability (a threshold in the head's logit units). */
export function logit(p: number): number {
  return Math.log(p / (1 - p));
}

/**
 * A backend's `evaluate`, written once: which eval-mode outputs score a batch of pairs, how the
 * triplet graphs' pairs are embedded (each side through the anchor branch), and the scores and
 * loss that come back. A backend supplies only the runs.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Batch, EvalResult } from '../train/backend.js';
import { pairScores, type ScoreKind } from './score-kind.js';

export interface EvalRunner {
  /** The training graph's named outputs, eval mode, for a batch. */
  outputs(batch: Batch, names: readonly string[]): Promise<Readonly<Record<string, ArrayLike<number>>>>;
  /**
   * The embeddings ([N, D]) of a batch of images fed to `input` (the triplet graphs' anchor
   * branch, the identity graphs' images).
   */
  embed(input: string, images: Tensor<'float32'>, size: number): Promise<ArrayLike<number>>;
}

export async function evaluatePairs(kind: ScoreKind, batch: Batch, run: EvalRunner): Promise<EvalResult> {
  const input = (name: string): Tensor<'float32'> => {
    const t = batch.inputs[name];
    if (!t) throw new Error(`batch has no input '${name}' (has: ${Object.keys(batch.inputs).join(', ')})`);
    return t;
  };
  if (kind.kind === 'embedding') {
    const a = await run.embed(kind.input, input('x1'), batch.size);
    const b = await run.embed(kind.input, input('x2'), batch.size);
    return { scores: pairScores(kind, { a, b }, batch.size) };
  }
  const withLoss = batch.inputs.labels !== undefined;
  const out = await run.outputs(batch, withLoss ? [kind.output, 'loss'] : [kind.output]);
  const scores = pairScores(kind, { values: out[kind.output]! }, batch.size);
  return withLoss ? { scores, loss: out.loss![0]! } : { scores };
}

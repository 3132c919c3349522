/**
 * What a pair score means, decided once for every backend and command: which output of a training
 * graph scores a pair, and how its values become scores (higher = more likely the same).
 */
import type { Graph } from '../ir/types.js';
import { sigmoid } from './probability.js';

export type ScoreKind =
  /** sigmoid(logit): the BCE head's probability. */
  | { readonly kind: 'logit'; readonly output: 'logit' }
  /** -distance: contrastive training's euclidean distance. */
  | { readonly kind: 'distance'; readonly output: 'distance' }
  /** -||e(x1) - e(x2)||: triplet graphs, embedding each side through the anchor branch. */
  | { readonly kind: 'embedding'; readonly output: 'embeddingA' };

export function scoreKind(graph: Graph): ScoreKind {
  const has = (n: string): boolean => graph.outputs.some((o) => o.name === n);
  const loss = (graph.meta.loss as { kind?: string } | undefined)?.kind;
  if (loss === 'contrastive' && has('distance')) return { kind: 'distance', output: 'distance' };
  if (has('logit')) return { kind: 'logit', output: 'logit' };
  if (has('distance')) return { kind: 'distance', output: 'distance' };
  if (has('embeddingA') && graph.inputs.some((i) => i.name === 'anchor'))
    return { kind: 'embedding', output: 'embeddingA' };
  throw new Error(`graph '${graph.name}' has no output to score pairs with (logit, distance or embeddingA)`);
}

/**
 * Scores from a backend's raw eval-mode outputs. `logit` and `distance` kinds read `raw` (the
 * kind's output for each pair); the `embedding` kind reads the two sides' embeddings, [N, D] each,
 * both made by the anchor branch.
 */
export function pairScores(
  kind: ScoreKind,
  raw: {
    readonly values?: ArrayLike<number>;
    readonly a?: ArrayLike<number>;
    readonly b?: ArrayLike<number>;
  },
  pairs: number,
): Float32Array {
  if (kind.kind === 'embedding') {
    const { a, b } = raw;
    if (!a || !b) throw new Error('pairScores: an embedding score needs both sides (a and b)');
    const d = a.length / pairs;
    const scores = new Float32Array(pairs);
    for (let i = 0; i < pairs; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (a[i * d + j]! - b[i * d + j]!) ** 2;
      scores[i] = -Math.sqrt(s);
    }
    return scores;
  }
  const v = raw.values;
  if (!v) throw new Error(`pairScores: a ${kind.kind} score needs the '${kind.output}' output`);
  const scores = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) scores[i] = kind.kind === 'logit' ? sigmoid(v[i]!) : -v[i]!;
  return scores;
}

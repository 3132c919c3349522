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
  /**
   * Graphs trained on single images (triplet: `anchor`; identity losses: `images`): each side of a
   * pair is embedded through that input, then scored by -||e(x1) - e(x2)|| (euclidean) or
   * cos(e(x1), e(x2)) (cosine).
   */
  | {
      readonly kind: 'embedding';
      readonly output: 'embeddingA';
      readonly input: 'anchor' | 'images';
      readonly metric: 'euclidean' | 'cosine';
    };

export function scoreKind(graph: Graph): ScoreKind {
  const has = (n: string): boolean => graph.outputs.some((o) => o.name === n);
  const loss = (graph.meta.loss as { kind?: string } | undefined)?.kind;
  if (loss === 'contrastive' && has('distance')) return { kind: 'distance', output: 'distance' };
  if (has('logit')) return { kind: 'logit', output: 'logit' };
  if (has('distance')) return { kind: 'distance', output: 'distance' };
  const input = (['images', 'anchor'] as const).find((n) => graph.inputs.some((i) => i.name === n));
  if (has('embeddingA') && input)
    return {
      kind: 'embedding',
      output: 'embeddingA',
      input,
      metric: input === 'images' ? 'cosine' : 'euclidean',
    };
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
      let na = 0;
      let nb = 0;
      for (let j = 0; j < d; j++) {
        const [x, y] = [a[i * d + j]!, b[i * d + j]!];
        if (kind.metric === 'cosine') {
          s += x * y;
          na += x * x;
          nb += y * y;
        } else s += (x - y) ** 2;
      }
      // As the cosineSimilarity op: each norm clamped at 1e-8.
      scores[i] =
        kind.metric === 'cosine'
          ? s / (Math.max(Math.sqrt(na), 1e-8) * Math.max(Math.sqrt(nb), 1e-8))
          : -Math.sqrt(s);
    }
    return scores;
  }
  const v = raw.values;
  if (!v) throw new Error(`pairScores: a ${kind.kind} score needs the '${kind.output}' output`);
  const scores = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) scores[i] = kind.kind === 'logit' ? sigmoid(v[i]!) : -v[i]!;
  return scores;
}

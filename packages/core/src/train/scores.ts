/** What a backend's `evaluate` scores with, from the training graph's outputs: higher = more likely the same. */
import type { Graph } from '../ir/types.js';

export type ScoreKind =
  /** sigmoid(logit): the BCE head's probability. */
  | { readonly kind: 'logit' }
  /** -distance: contrastive training's euclidean distance. */
  | { readonly kind: 'distance' }
  /** -||e(x1) - e(x2)||: triplet graphs, embedding each side through the anchor branch. */
  | { readonly kind: 'embedding' };

export function scoreKind(graph: Graph): ScoreKind {
  const has = (n: string): boolean => graph.outputs.some((o) => o.name === n);
  const loss = (graph.meta.loss as { kind?: string } | undefined)?.kind;
  if (loss === 'contrastive' && has('distance')) return { kind: 'distance' };
  if (has('logit')) return { kind: 'logit' };
  if (has('distance')) return { kind: 'distance' };
  if (has('embeddingA') && graph.inputs.some((i) => i.name === 'anchor')) return { kind: 'embedding' };
  throw new Error(`graph '${graph.name}' has no output to score pairs with (logit, distance or embeddingA)`);
}

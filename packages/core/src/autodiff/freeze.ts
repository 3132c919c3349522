/**
 * Freezing: parameters marked not trainable get no gradient, no optimizer slots and no update, and
 * a BatchNorm whose scale and shift are frozen runs in eval mode (see trainingForm). Backward stops
 * where nothing trainable lies behind, so a frozen encoder costs only its forward pass.
 */
import type { Graph } from '../ir/types.js';

/** `graph` with every parameter whose name starts with one of `prefixes` marked not trainable. */
export function freeze(graph: Graph, prefixes: string | readonly string[]): Graph {
  const list = typeof prefixes === 'string' ? [prefixes] : prefixes;
  if (list.some((p) => p === '')) throw new Error('freeze: a prefix must not be empty');
  const matched = graph.params.filter(
    (p) => p.kind === 'parameter' && list.some((prefix) => p.name.startsWith(prefix)),
  );
  if (matched.length === 0)
    throw new Error(
      `freeze: no parameter of graph '${graph.name}' starts with ${list.map((p) => `'${p}'`).join(' or ')}`,
    );
  const frozen = new Set(matched.map((p) => p.name));
  return {
    ...graph,
    params: graph.params.map((p) => (frozen.has(p.name) ? { ...p, trainable: false } : p)),
  };
}

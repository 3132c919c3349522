/**
 * Weights checked against a graph: every declared parameter and buffer present with its dtype and
 * shape, nothing else.
 *
 * BatchNorm's `*.num_batches_tracked` (int64 scalar) is kept as a buffer so files keep PyTorch's
 * state_dict keys and load into torch unchanged. No op reads it (momentum is always set), so a
 * file that lacks it (an export that dropped counters, a hand-written file) is accepted and the
 * counter is filled with 0: `completeWeights` adds them, `weightsForGraph` and `loadWeights` do it
 * for you. Any other missing tensor is an error.
 */

import { formatShape, shapesEqual } from '../ir/shape.js';
import type { Graph, Param } from '../ir/types.js';
import { allocate, numel, type Tensor } from '../tensor/tensor.js';
import { weightsError } from './errors.js';
import { quote } from './safetensors.js';

export interface CheckOptions {
  /** Accept a map without some `*.num_batches_tracked` counters (they read as 0). Default false. */
  readonly allowMissingCounters?: boolean;
  /** A file name to put in error messages. */
  readonly source?: string;
}

/** BatchNorm's step counter: PyTorch stores it, nothing here reads it. */
export function isBatchCounter(p: Param): boolean {
  return (
    (p.name === 'num_batches_tracked' || p.name.endsWith('.num_batches_tracked')) &&
    p.dtype === 'int64' &&
    p.shape.length === 0
  );
}

/** How many names a message lists before it only counts. */
const LIST = 3;

/** Throws one WeightsError that lists every kind of problem (names first, then counts). */
export function checkWeights(
  graph: Graph,
  tensors: ReadonlyMap<string, Tensor>,
  opts: CheckOptions = {},
): void {
  const declared = new Map(graph.params.map((p) => [p.name, p]));
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const p of graph.params) {
    const t = tensors.get(p.name);
    if (t === undefined) {
      if (!(opts.allowMissingCounters && isBatchCounter(p))) missing.push(p.name);
    } else if (t.dtype !== p.dtype) {
      mismatched.push(`${quote(p.name)} has dtype ${t.dtype} but the graph expects ${p.dtype}`);
    } else if (!shapesEqual(t.shape, p.shape)) {
      mismatched.push(
        `${quote(p.name)} has shape ${formatShape(t.shape)} but the graph expects ${formatShape(p.shape)}`,
      );
    } else if (t.data.length !== numel(t.shape)) {
      mismatched.push(
        `${quote(p.name)} has ${t.data.length} values but its shape ${formatShape(t.shape)} needs ${numel(t.shape)}`,
      );
    }
  }
  const unexpected = [...tensors.keys()].filter((name) => !declared.has(name));

  const problems: string[] = [];
  if (missing.length > 0) problems.push(`${count(missing.length, 'missing tensor')} (${names(missing)})`);
  if (unexpected.length > 0) {
    problems.push(`${count(unexpected.length, 'unexpected tensor')} not in the graph (${names(unexpected)})`);
  }
  if (mismatched.length > 0) {
    const more = mismatched.length - 1;
    problems.push(
      `${mismatched[0]}${more > 0 ? ` (and ${count(more, 'more mismatch', 'more mismatches')})` : ''}`,
    );
  }
  if (problems.length > 0) {
    const first = missing[0] ?? unexpected[0];
    throw weightsError(problems.join('; '), opts.source, first);
  }
}

/** The map with each missing `*.num_batches_tracked` counter of the graph added as int64 0. */
export function completeWeights(graph: Graph, tensors: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  const out = new Map(tensors);
  for (const p of graph.params) {
    if (!out.has(p.name) && isBatchCounter(p)) out.set(p.name, allocate('int64', []));
  }
  return out;
}

/** Checks (missing counters allowed) and returns the tensors in graph.params order, counters filled in. */
export function weightsForGraph(
  graph: Graph,
  tensors: ReadonlyMap<string, Tensor>,
  opts: { readonly source?: string } = {},
): Map<string, Tensor> {
  checkWeights(graph, tensors, { allowMissingCounters: true, ...opts });
  const complete = completeWeights(graph, tensors);
  return new Map(graph.params.map((p) => [p.name, complete.get(p.name) as Tensor]));
}

function names(list: readonly string[]): string {
  const shown = list.slice(0, LIST).map(quote).join(', ');
  return list.length > LIST ? `${shown}, ...` : shown;
}

function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** Shared by tests: host tensors to tf and back, and a one-node graph per conformance case. */

import { type Graph, GraphBuilder, type OpName, opSpec, type Tensor, type Value } from '@siamese/core';
import type { ConformanceCase, ConformanceTensor } from '@siamese/core/conformance';
import * as tf from '@tensorflow/tfjs-core';
import { ir, type Val } from './lower/value.js';

export const fromConformance = (t: ConformanceTensor): tf.Tensor =>
  tf.tensor(t.data as number[], [...t.shape]);

export const fromHost = (t: Tensor): tf.Tensor => tf.tensor(t.data as Float32Array, [...t.shape], 'float32');

const PARAMS = new Set(['weight', 'bias', 'runningMean', 'runningVar']);

export interface CaseGraph {
  readonly graph: Graph;
  readonly feeds: Record<string, tf.Tensor>;
  readonly params: Map<string, Val>;
  /** Parameter name of each of the op's inputs ('' when omitted), to find updated buffers. */
  readonly names: readonly string[];
}

/** Weights and BatchNorm statistics become parameters (as in a model); everything else an input. */
export function caseGraph(c: ConformanceCase): CaseGraph {
  const b = new GraphBuilder(`${c.op}_${c.name}`);
  const specs = opSpec(c.op as OpName).inputs;
  const feeds: Record<string, tf.Tensor> = {};
  const params = new Map<string, Val>();
  const names: string[] = [];
  const values: (Value | undefined)[] = c.inputs.map((t, i) => {
    const spec = specs[Math.min(i, specs.length - 1)]!;
    if (t === null) {
      names.push('');
      return undefined;
    }
    const name = spec.variadic ? `${spec.name}${i}` : spec.name;
    names.push(name);
    if (PARAMS.has(spec.name)) {
      params.set(name, ir(fromConformance(t)));
      return b.param(name, [...t.shape], { kind: 'zeros' });
    }
    feeds[name] = fromConformance(t);
    return b.input(name, 'float32', [...t.shape]);
  });
  // Output 0 is `y`; further outputs (batchNormTrain's statistics, batchNormGrad's) are `y1`, `y2`, ...
  b.opMulti(c.op as OpName, values, c.attrs as never, 'y').forEach((v, i) => {
    b.output(i === 0 ? 'y' : `y${i}`, v);
  });
  return { graph: b.build(), feeds, params, names };
}

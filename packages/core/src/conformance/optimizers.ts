/**
 * torch.optim's trajectories (tools/reference/optimizers.py: three steps of every optimizer setting
 * on fixed gradients) and the update graph every backend runs them through: one parameter `p`, its
 * slots, the gradient `g`, `lr` and `step`, with core's optimizer subgraph in between.
 */
import { readFile } from 'node:fs/promises';
import { updateParam } from '../autodiff/optimizer.js';
import { STEP_INPUTS, stepNames } from '../autodiff/step-names.js';
import { GraphBuilder } from '../ir/builder.js';
import type { Graph, Value } from '../ir/types.js';
import { type OptimizerConfig, slotNames } from '../optimizer/config.js';

export interface OptimizerTrajectories {
  readonly lr: number;
  /** The parameter's start. */
  readonly p0: readonly number[];
  /** The gradient of each step. */
  readonly grads: readonly (readonly number[])[];
  /** Each setting and the parameter after each step. */
  readonly cases: readonly {
    readonly config: OptimizerConfig;
    readonly steps: readonly (readonly number[])[];
  }[];
}

export async function loadOptimizerTrajectories(): Promise<OptimizerTrajectories> {
  const url = new URL('../../conformance/optimizers/torch-optim.json', import.meta.url);
  return JSON.parse(await readFile(url, 'utf8')) as OptimizerTrajectories;
}

/**
 * One update of parameter `p` (shape `shape`): outputs `stepNames.next(...)` of `p` and its slots.
 * The gradient `g` is a graph input, or with `gradient: 'state'` a buffer fed like the parameter
 * (a backend that keeps state in its own layout feeds it that way).
 */
export function optimizerUpdateGraph(
  config: OptimizerConfig,
  shape: readonly number[],
  o: { readonly gradient?: 'input' | 'state' } = {},
): Graph {
  const b = new GraphBuilder('update');
  const g =
    o.gradient === 'state' ? b.buffer('g', [...shape], { kind: 'zeros' }) : b.input('g', 'float32', shape);
  const lr = b.input(STEP_INPUTS.lr, 'float32', []);
  const step = b.input(STEP_INPUTS.step, 'float32', []);
  const p = b.param('p', [...shape], { kind: 'zeros' });
  const slots = new Map<string, Value>(
    slotNames(config).map((s) => [s, b.buffer(stepNames.slot('p', s), [...shape], { kind: 'zeros' })]),
  );
  const r = updateParam(b, config, { lr, step }, { param: p, grad: g, slots }, new Map());
  b.output(stepNames.next('p'), r.param);
  for (const [s, v] of r.slots) b.output(stepNames.next(stepNames.slot('p', s)), v);
  return b.build();
}

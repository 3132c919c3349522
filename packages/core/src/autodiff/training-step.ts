/**
 * One whole training step as one graph: (batch, dropout masks, lr, step, parameters, buffers,
 * optimizer slots) -> (loss, the next value of every parameter, running statistic and slot). A
 * backend runs it and feeds each `next:<name>` output back as `<name>` for the following step.
 */
import { GraphBuilder } from '../ir/builder.js';
import type { Graph, Value } from '../ir/types.js';
import {
  type ClipConfig,
  checkOptimizer,
  checkParamGroups,
  lrFactorOf,
  type OptimizerConfig,
  type ParamGroup,
  slotNames,
} from '../optimizer/config.js';
import { gradInto } from './grad.js';
import { clipGradients, updateParam } from './optimizer.js';
import { AutodiffError } from './rule.js';
import { STEP_INPUTS, stepNames } from './step-names.js';
import { type DropoutMask, trainingForm } from './training-form.js';

export interface TrainingStepOptions {
  /** Default Adam with torch's defaults. */
  readonly optimizer?: OptimizerConfig;
  readonly clip?: ClipConfig;
  /**
   * Learning-rate factors by parameter-name prefix (e.g. the encoder at 0.1x the head's). Frozen
   * parameters are not a group: mark them non-trainable (`freeze`), so they get no gradient at all.
   */
  readonly paramGroups?: readonly ParamGroup[];
}

export interface OptimizerSlot {
  /** The slot's state name, `<param>.<slot>` (a buffer of the step graph). */
  readonly name: string;
  readonly param: string;
  readonly slot: string;
}

export interface TrainingStep {
  readonly graph: Graph;
  /** Inputs the caller feeds from the batch (x1, x2, labels or anchor, positive, negative). */
  readonly batchInputs: readonly string[];
  readonly dropoutMasks: readonly DropoutMask[];
  /** Every state value (parameter, running buffer, slot) the step changes, and its `next:` output. */
  readonly updates: ReadonlyMap<string, string>;
  readonly slots: readonly OptimizerSlot[];
  /** BatchNorm counters and how much one step adds to each; kept by the caller (int64 bookkeeping). */
  readonly counters: ReadonlyMap<string, number>;
  /** Trainable parameters the loss does not reach: left alone, as torch.optim does. */
  readonly frozen: readonly string[];
}

export function trainingStep(graph: Graph, o: TrainingStepOptions = {}): TrainingStep {
  const optimizer = o.optimizer ?? { kind: 'adam' };
  checkOptimizer(optimizer);
  const groups = o.paramGroups ?? [];
  checkParamGroups(groups);
  if (!graph.outputs.some((x) => x.name === 'loss'))
    throw new AutodiffError(`trainingStep: graph '${graph.name}' has no 'loss' output`);
  const form = trainingForm(graph);
  const b = GraphBuilder.from(form.graph, `${graph.name}_step`);
  const grads = gradInto(b, form.graph);
  const lr = b.input(STEP_INPUTS.lr, 'float32', []);
  const step = b.input(STEP_INPUTS.step, 'float32', []);

  const live = graph.params.filter((p) => p.trainable && grads.has(p.name));
  if (live.length === 0)
    throw new AutodiffError(
      `trainingStep: no trainable parameter of graph '${graph.name}' reaches its loss (all frozen, or none on the loss's path)`,
    );
  const frozen = graph.params.filter((p) => p.trainable && !grads.has(p.name)).map((p) => p.name);
  const clipped = o.clip
    ? b.branch('clip', () =>
        clipGradients(
          b,
          live.map((p) => grads.get(p.name)!),
          o.clip!,
        ),
      )
    : undefined;

  const updates = new Map<string, string>(form.bufferUpdates);
  const slots: OptimizerSlot[] = [];
  // Scalars shared within a group (its lr, Adam's step size, ...), one set per learning-rate factor.
  const perFactor = new Map<number, { lr: Value; shared: Map<string, Value> }>();
  const groupOf = (name: string) => {
    const factor = lrFactorOf(groups, name);
    let g = perFactor.get(factor);
    if (!g) {
      const tag = `group_lr${perFactor.size}`;
      g = { lr: factor === 1 ? lr : b.op('scale', [lr], { alpha: factor }, tag), shared: new Map() };
      perFactor.set(factor, g);
    }
    return g;
  };
  live.forEach((p, i) => {
    const slotValues = new Map<string, Value>();
    for (const slot of slotNames(optimizer)) {
      const name = stepNames.slot(p.name, slot);
      slotValues.set(slot, b.buffer(name, p.shape as number[], { kind: 'zeros' }));
      slots.push({ name, param: p.name, slot });
    }
    const grad = clipped?.[i] ?? grads.get(p.name)!;
    const group = groupOf(p.name);
    const r = b.branch(`update/${p.name}`, () =>
      updateParam(
        b,
        optimizer,
        { lr: group.lr, step },
        { param: b.value(p.name), grad, slots: slotValues },
        group.shared,
      ),
    );
    b.output(stepNames.next(p.name), r.param);
    updates.set(p.name, stepNames.next(p.name));
    for (const [slot, v] of r.slots) {
      const state = stepNames.slot(p.name, slot);
      b.output(stepNames.next(state), v);
      updates.set(state, stepNames.next(state));
    }
  });
  // The step returns the loss and the next state only: other forward outputs would be copied out for nothing.
  for (const out of graph.outputs) if (out.name !== 'loss') b.dropOutput(out.name);
  b.setMeta('trainingStep', {
    optimizer,
    clip: o.clip ?? null,
    ...(groups.length > 0 ? { paramGroups: groups } : {}),
  });
  const inputs = new Set(form.dropoutMasks.map((m) => m.input));
  return {
    graph: b.build(),
    batchInputs: form.graph.inputs.map((v) => v.name).filter((n) => !inputs.has(n)),
    dropoutMasks: form.dropoutMasks,
    updates,
    slots,
    counters: form.counters,
    frozen,
  };
}

/**
 * The one place the training graphs' added inputs and outputs get their names. Backends never
 * parse these names: they read the structured fields (`TrainingStep.updates`, `.batchInputs`,
 * `.dropoutMasks`, `GradResult.gradients`, `TrainingForm.bufferUpdates`) that carry them.
 */
export const STEP_INPUTS = { lr: 'lr', step: 'step' } as const;

export const stepNames = {
  /** The output holding a parameter's gradient (`grad`). */
  grad: (param: string): string => `grad:${param}`,
  /** The output holding a state value (parameter, running statistic, slot) after the step. */
  next: (state: string): string => `next:${state}`,
  /** The input a dropout node's mask is fed through. */
  dropoutMask: (node: string): string => `dropoutMask:${node}`,
  /** An optimizer slot's state name, as torch.optim's state_dict keys it (`<param>.exp_avg`). */
  slot: (param: string, slot: string): string => `${param}.${slot}`,
} as const;

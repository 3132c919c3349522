export { dropoutMask, dropoutMasks, maskDims } from './dropout-mask.js';
export { freeze } from './freeze.js';
export { type GradOptions, type GradResult, grad, gradInto } from './grad.js';
export {
  clipGradients,
  type ParamUpdate,
  type StepScalars,
  type UpdateResult,
  updateParam,
} from './optimizer.js';
export { AutodiffError, type VjpArgs, type VjpRule } from './rule.js';
export { NO_RULE_REASON, VJP, type VjpTable } from './rules.js';
export { STEP_INPUTS, stepNames } from './step-names.js';
export { type DropoutMask, type TrainingForm, trainingForm } from './training-form.js';
export {
  type OptimizerSlot,
  type TrainingStep,
  type TrainingStepOptions,
  trainingStep,
} from './training-step.js';

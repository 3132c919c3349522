export * from '../optimizer/config.js';
export type { Batch, EvalResult, OptimizerState, StepResult, TrainingBackend } from './backend.js';
export {
  type Checkpoint,
  loadCheckpoint,
  OPTIMIZER_FILE,
  saveCheckpoint,
  TRAINER_FILE,
  type TrainerState,
} from './checkpoint.js';
export { EarlyStopping, type EarlyStoppingConfig } from './early-stopping.js';
export {
  type EpochRecord,
  RateMeter,
  type StallConfig,
  stallAt,
  type TrainEvent,
  type ValidationMetrics,
} from './events.js';
export { TrainingError, type TrainOptions, type TrainResult, train } from './loop.js';
export { optimizerSlotsToLoad } from './optimizer-state.js';
export { checkSchedule, learningRate, type Schedule, type ScheduleConfig } from './schedule.js';
export { validate } from './validate.js';

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
export { RateMeter, type TrainEvent, type ValidationMetrics } from './events.js';
export { type EpochRecord, TrainingError, type TrainOptions, type TrainResult, train } from './loop.js';
export * from './optimizer.js';
export { checkSchedule, learningRate, type Schedule, type ScheduleConfig } from './schedule.js';
export { type ScoreKind, scoreKind } from './scores.js';
export { validate } from './validate.js';

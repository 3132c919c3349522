export {
  type Calibration,
  calibrate,
  calibrateThreshold,
  DISTANCE_HEAD,
  type DistanceHead,
  fitLogistic,
  headInput,
  withDistanceHead,
} from './calibrate.js';
export { type EvalRunner, evaluatePairs } from './evaluate.js';
export { logit, sigmoid } from './probability.js';
export { pairScores, type ScoreKind, scoreKind } from './score-kind.js';

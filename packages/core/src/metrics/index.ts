export { nWayAccuracy, retrievalMetrics } from './oneshot.js';
export { equalErrorRate, pairAccuracy, type RocPoint, rocAuc, rocCurve, thresholdAtFar } from './roc.js';

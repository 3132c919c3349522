/** Weights: safetensors encode/decode, PyTorch checkpoints (read-only), checks against a graph, atomic file I/O. */

export {
  type CheckOptions,
  checkWeights,
  completeWeights,
  isBatchCounter,
  weightsForGraph,
} from './check.js';
export { WeightsError } from './errors.js';
export { loadWeights, saveWeights, writeFileAtomic } from './file.js';
export { checkFinite } from './finite.js';
export {
  processAlive,
  readFolder,
  recoverFolder,
  replaceFolder,
  SWAP_STEPS,
  type SwapStep,
} from './folder.js';
export {
  type DecodeOptions,
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  type Safetensors,
  type SafetensorsDType,
} from './safetensors.js';
export {
  loadTorchCheckpoint,
  readTorchCheckpoint,
  type StateDictKey,
  type TorchCheckpoint,
  type TorchReadOptions,
} from './torch/checkpoint.js';
export {
  adaptInputChannels,
  type Transfer,
  type TransferOptions,
  type TransferReport,
  transferWeights,
} from './transfer.js';

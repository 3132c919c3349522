/**
 * @siamese/backend-tfjs: trains @siamese/core graphs with TensorFlow.js. Importing it loads no
 * backend: `resolveDevice` (or `createTfjsBackend`) picks and loads one.
 */
export {
  DEVICES,
  type Device,
  type DeviceAttempt,
  DeviceError,
  type DeviceReport,
  describeDevice,
  GPU_REQUIREMENTS,
  type Importer,
  importPlatform,
  type ResolvedKind,
  type ResolveOptions,
  resolveDevice,
} from './device.js';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './kernels/register.js';
export { type CompiledGraph, type CompileOptions, compileGraph, type RunResult } from './lower/compile.js';
export type { LowerContext, Lowering, Mode } from './lower/context.js';
export { LOWERINGS, type LoweringTable } from './lower/table.js';
export type { Layout, Val } from './lower/value.js';
export {
  createTfjsBackend,
  type HostOutputs,
  type TfjsBackendOptions,
  TfjsTrainingBackend,
} from './train/backend.js';

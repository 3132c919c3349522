/**
 * @siamese/backend-torch: compiles a model's graph IR to a self-contained PyTorch package — the
 * model as an nn.Module whose state_dict keys are the IR's (torchvision's) names, the loss, the
 * preprocessing and a torchrun/DDP train.py — for training beyond one machine, with the weights
 * coming back by name. The generated Python is never imported by the TypeScript packages.
 */
export { EmitContext } from './emit/context.js';
export { LINE_LENGTH } from './emit/format.js';
export { LOWERINGS, type LoweringTable } from './emit/lowering.js';
export { lossSource, type ModelSource, modelSource } from './emit/module.js';
export type { Emit, EmitArgs, Lowering, NotEmitted } from './emit/types.js';
export { header, PYTORCH_FILES, type PytorchPackageOptions, pytorchPackage } from './package.js';

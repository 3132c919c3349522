/**
 * Kernels registered on the wasm backend when the wasm device is chosen: the filter gradient it
 * lacks, and a GEMM-based input gradient in place of its direct loop.
 */
import { getKernel, type KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterWasmConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputWasmConfig } from './conv2d-backprop-input.js';

export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  conv2dBackpropFilterWasmConfig,
  conv2dBackpropInputWasmConfig,
];

/** Idempotent. Returns the kernel names it (re)registered. */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const k of WASM_TRAINING_KERNELS) {
    const current = getKernel(k.kernelName, k.backendName);
    if (current?.kernelFunc === k.kernelFunc) continue;
    if (current) unregisterKernel(k.kernelName, k.backendName);
    registerKernel(k);
    added.push(k.kernelName);
  }
  return added;
}

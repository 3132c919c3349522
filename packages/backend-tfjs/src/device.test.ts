/** Device resolution with the native packages simulated: missing, CPU-only (no CUDA) and on a GPU. */

import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeviceError, describeDevice, type Importer, importPlatform, resolveDevice } from './device.js';

const realImport: Importer = (s) => import(s);

/** Native packages fail to import, as on a machine where their install script could not download libtensorflow. */
const noNative: Importer = (s) =>
  s.includes('tfjs-node')
    ? Promise.reject(new Error(`Cannot find module '${s}/lib/napi-v8/tfjs_binding.node'`))
    : realImport(s);

/** A stand-in for tfjs-node(-gpu): registers a 'tensorflow' backend whose binding reports the GPU flag. */
const fakeNative =
  (gpu: boolean): Importer =>
  async (s) => {
    if (!s.includes('tfjs-node')) return realImport(s);
    if (!tf.findBackend('tensorflow')) {
      tf.registerBackend('tensorflow', () => Object.assign(new MathBackendCPU(), { isUsingGpuDevice: gpu }));
    }
    return {};
  };

/**
 * Like tfjs-node(-gpu) without libtensorflow: registers its 'tensorflow' kernels, then fails to
 * load its native addon.
 */
const halfLoadingNative: Importer = async (s) => {
  if (!s.includes('tfjs-node')) return realImport(s);
  for (const kernelName of ['Add', 'Conv2D', 'MatMul']) {
    tf.registerKernel({ kernelName, backendName: 'tensorflow', kernelFunc: () => ({}) as never });
  }
  throw new Error(`The Node.js native addon module (tfjs_binding.node) can not be found (${s})`);
};

afterEach(() => {
  if (tf.findBackend('tensorflow')) tf.removeBackend('tensorflow');
});

describe('resolveDevice', () => {
  it('auto falls back to wasm without native builds, reporting each failed attempt', async () => {
    const r = await resolveDevice('auto', { importer: noNative });
    expect(r).toMatchObject({ requested: 'auto', chosen: 'wasm', backend: 'wasm', gpuInUse: false });
    expect(r.attempts.map((a) => [a.device, a.ok])).toEqual([
      ['gpu', false],
      ['cpu', false],
      ['wasm', true],
    ]);
    expect(r.attempts[0]!.error).toMatch(/import failed: Cannot find module/);
    expect(r.notes.join()).toMatch(/SIMD on/);
    expect(describeDevice(r)).toMatch(/tfjs wasm .*GPU not in use.*not used: gpu: import failed/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('a strict gpu request that cannot be met is an error naming CUDA 11.2 and cuDNN 8.1', async () => {
    const err = await resolveDevice('gpu', { importer: noNative }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).message).toMatch(
      /device 'gpu' is not available[\s\S]*CUDA 11\.2 and cuDNN 8\.1/,
    );
    expect((err as DeviceError).attempts).toHaveLength(1);
  });

  it('detects tfjs-node-gpu silently running on the CPU: auto reports it, strict gpu refuses it', async () => {
    const r = await resolveDevice('auto', { importer: fakeNative(false) });
    expect(r).toMatchObject({
      chosen: 'cpu',
      backend: 'tensorflow',
      gpuInUse: false,
      package: '@tensorflow/tfjs-node-gpu',
    });
    expect(r.notes.join()).toMatch(/sees no GPU and runs on the CPU/);
    await expect(resolveDevice('gpu', { importer: fakeNative(false) })).rejects.toThrow(/runs on the CPU/);
  });

  it('reports a GPU in use only when the binding says so', async () => {
    const r = await resolveDevice('gpu', { importer: fakeNative(true) });
    expect(r).toMatchObject({ chosen: 'gpu', gpuInUse: true, backend: 'tensorflow' });
  });

  it('strict cpu without tfjs-node is an error; js always works', async () => {
    await expect(resolveDevice('cpu', { importer: noNative })).rejects.toThrow(
      /@tensorflow\/tfjs-node@4\.22\.0/,
    );
    const r = await resolveDevice('js');
    expect(r).toMatchObject({ chosen: 'js', backend: 'cpu' });
    await expect(resolveDevice('tpu' as never)).rejects.toThrow(/device must be one of/);
  });

  it('a native build that fails after registering its kernels leaves none behind for the next one', async () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      const r = await resolveDevice('auto', { importer: halfLoadingNative });
      expect(r.attempts.map((a) => [a.device, a.ok])).toEqual([
        ['gpu', false],
        ['cpu', false],
        ['wasm', true],
      ]);
      expect(r.attempts[1]!.error).toMatch(/tfjs-node\)$/);
      // The second native build registered the same kernels without an "already registered" warning.
      expect(warn.mock.calls.flat().join('\n')).not.toMatch(/already registered/);
      expect(tf.getKernelsForBackend('tensorflow')).toEqual([]);
    } finally {
      warn.mockRestore();
    }
    await expect(importPlatform('@tensorflow/tfjs-node', halfLoadingNative)).rejects.toThrow(/addon/);
    expect(tf.getKernelsForBackend('tensorflow')).toEqual([]);
  });

  it('loads one tfjs-core: every @tensorflow package resolves the same copy', () => {
    const req = createRequire(import.meta.url);
    const core = realpathSync(req.resolve('@tensorflow/tfjs-core'));
    for (const p of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu']) {
      expect(realpathSync(createRequire(req.resolve(p)).resolve('@tensorflow/tfjs-core')), p).toBe(core);
    }
  });
});

/** The training backend choice: what `auto` takes on each device, and what an unmeetable request says. */
import { siameseTraining } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import {
  type BackendOpeners,
  backendOpeners,
  chooseBackend,
  preflightBackend,
  type TfjsImporter,
} from './backend-choice.js';
import type { TrainSettings } from './settings.js';

const graph = siameseTraining(
  { encoder: 'resnet10_w8', input: { channels: 1, height: 16, width: 16 } },
  { kind: 'bce' },
);
const settings = (backend: string, device: string) => ({ backend, device }) as unknown as TrainSettings;
const fake = (name: string) => ({ description: name, deviceSummary: name }) as never;

/** Openers that record which backend opened; the tfjs GPU probe and onnx open behave as given. */
function openers(o: { gpu?: string; onnxFails?: string } = {}): BackendOpeners & { opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    tfjsGpu: async () => o.gpu,
    openTfjs: async () => {
      opened.push('tfjs');
      return fake('tfjs');
    },
    openOnnx: async () => {
      if (o.onnxFails) throw new Error(o.onnxFails);
      opened.push('onnx');
      return fake('onnx');
    },
  };
}

describe('chooseBackend', () => {
  it('takes the backend named, whatever is installed', async () => {
    const deps = openers({ gpu: 'no tfjs GPU build' });
    expect((await chooseBackend(settings('tfjs', 'auto'), graph, deps)).name).toBe('tfjs');
    expect((await chooseBackend(settings('onnx', 'cpu'), graph, deps)).name).toBe('onnx');
    expect(deps.opened).toEqual(['tfjs', 'onnx']);
  });

  it('auto: tfjs where its GPU build really runs on a GPU, else onnxruntime with the reason', async () => {
    expect((await chooseBackend(settings('auto', 'auto'), graph, openers())).name).toMatch(
      /^tfjs \(auto: its GPU build/,
    );
    const r = await chooseBackend(
      settings('auto', 'auto'),
      graph,
      openers({ gpu: 'no tfjs GPU build is usable here (x)' }),
    );
    expect(r.name).toBe('onnx (auto: no tfjs GPU build is usable here (x))');
    expect((await chooseBackend(settings('auto', 'cpu'), graph, openers())).name).toMatch(
      /^onnx \(auto: onnxruntime trains fastest/,
    );
    expect((await chooseBackend(settings('auto', 'wasm'), graph, openers())).name).toMatch(
      /^tfjs \(auto: --device wasm/,
    );
  });

  it('a GPU request neither backend meets names both reasons; auto passes onnxruntime errors on', async () => {
    const both = openers({
      gpu: 'no tfjs GPU build',
      onnxFails: "device 'cuda' is not available: no provider",
    });
    await expect(chooseBackend(settings('auto', 'gpu'), graph, both)).rejects.toThrow(UsageError);
    await expect(chooseBackend(settings('auto', 'gpu'), graph, both)).rejects.toThrow(
      /--device gpu: no GPU training backend is usable here: tfjs: no tfjs GPU build; onnxruntime: device 'cuda' is not available/,
    );
    const auto = openers({ gpu: 'no tfjs GPU build', onnxFails: 'session failed' });
    await expect(chooseBackend(settings('auto', 'auto'), graph, auto)).rejects.toThrow(/^session failed$/);
  });
});

/** What Node throws when a package is not installed. */
const notFound = (spec: string) =>
  Object.assign(
    new Error(`Cannot find package '${spec}' imported from /app/node_modules/@siamese/cli/dist/train`),
    {
      code: 'ERR_MODULE_NOT_FOUND',
    },
  );
/** The cli installed without its optional peer @siamese/backend-tfjs. */
const noTfjs: TfjsImporter = () => Promise.reject(notFound('@siamese/backend-tfjs'));

/** The real tfjs openers over `importer`, with onnxruntime faked (it is not what these tests are about). */
function withoutTfjs(importer: TfjsImporter = noTfjs): BackendOpeners {
  return { ...backendOpeners(importer), openOnnx: async () => fake('onnx') };
}

describe('without @siamese/backend-tfjs (an optional peer of the cli)', () => {
  const INSTALL = 'npm install @siamese/backend-tfjs';

  it('--backend tfjs, --device wasm and --device js fail with one line saying what to install', async () => {
    for (const [backend, device, asked] of [
      ['tfjs', 'auto', '--backend tfjs'],
      ['tfjs', 'wasm', '--backend tfjs'],
      ['auto', 'wasm', '--device wasm'],
      ['auto', 'js', '--device js'],
    ] as const) {
      const message = `${asked} needs @siamese/backend-tfjs: ${INSTALL}`;
      const err = await chooseBackend(settings(backend, device), graph, withoutTfjs()).catch((e) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(message);
      // The same error before any data is read.
      const early = await preflightBackend(settings(backend, device), noTfjs).catch((e) => e);
      expect(early).toBeInstanceOf(UsageError);
      expect((early as Error).message).toBe(message);
    }
  });

  it('auto trains on onnxruntime and says why on the backend line', async () => {
    const r = await chooseBackend(settings('auto', 'auto'), graph, withoutTfjs());
    expect(r.name).toBe('onnx (auto: @siamese/backend-tfjs is not installed)');
    expect(r.backend.deviceSummary).toBe('onnx');
    await expect(preflightBackend(settings('auto', 'auto'), noTfjs)).resolves.toBeUndefined();
    await expect(preflightBackend(settings('onnx', 'cpu'), noTfjs)).resolves.toBeUndefined();
  });

  it('an explicit GPU request neither backend meets names the missing package', async () => {
    const deps = { ...backendOpeners(noTfjs), openOnnx: () => Promise.reject(new Error('no CUDA provider')) };
    await expect(chooseBackend(settings('auto', 'gpu'), graph, deps)).rejects.toThrow(
      '--device gpu: no GPU training backend is usable here: tfjs: @siamese/backend-tfjs is not installed; onnxruntime: no CUDA provider',
    );
  });

  it('installed but broken (one of its own dependencies missing) is not reported as not installed', async () => {
    const broken: TfjsImporter = () => Promise.reject(notFound('@tensorflow/tfjs-core'));
    await expect(chooseBackend(settings('tfjs', 'auto'), graph, withoutTfjs(broken))).rejects.toThrow(
      /^Cannot find package '@tensorflow\/tfjs-core'/,
    );
    const r = await chooseBackend(settings('auto', 'auto'), graph, withoutTfjs(broken));
    expect(r.name).toMatch(
      /^onnx \(auto: no tfjs GPU build is usable here \(Cannot find package '@tensorflow\/tfjs-core'/,
    );
  });
});

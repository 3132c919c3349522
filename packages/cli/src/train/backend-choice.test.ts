/** The training backend choice: what `auto` takes on each device, and what an unmeetable request says. */
import { siameseTraining } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { type BackendOpeners, chooseBackend } from './backend-choice.js';
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

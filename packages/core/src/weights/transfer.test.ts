import { describe, expect, it } from 'vitest';
import { initWeights } from '../nn/init.js';
import { RESNET_PRESETS, resnet } from '../nn/resnet.js';
import { siamese } from '../nn/siamese.js';
import type { Tensor } from '../tensor/tensor.js';
import { adaptInputChannels, transferWeights } from './transfer.js';

const model = (channels: 1 | 3, hidden: number[] = [16]) =>
  siamese({ encoder: 'resnet10_w8', input: { channels, height: 16, width: 16 }, head: { hidden } });

/** A torchvision-style encoder state_dict (no `encoder.` prefix) with an ImageNet-like `fc`. */
function torchvisionEncoder(channels: number, preset: keyof typeof RESNET_PRESETS = 'resnet10_w8') {
  const g = resnet({ ...RESNET_PRESETS[preset], inChannels: channels }, { height: 16, width: 16 });
  const w = initWeights(g, 42);
  const d = g.params.find((p) => p.name === 'layer4.0.conv2.weight')!.shape[0] as number;
  w.set('fc.weight', { dtype: 'float32', shape: [10, d], data: new Float32Array(10 * d).fill(0.5) });
  w.set('fc.bias', { dtype: 'float32', shape: [10], data: new Float32Array(10) });
  return w;
}

const same = (a: Tensor | undefined, b: Tensor | undefined) => {
  expect(a?.shape).toEqual(b?.shape);
  expect(a?.data).toEqual(b?.data);
};

describe('transferWeights', () => {
  it('loads a torchvision encoder under encoder.*, ignores fc and keeps the seeded head', () => {
    const file = torchvisionEncoder(1);
    const g = model(1);
    const { weights, report } = transferWeights(g, file, { seed: 3 });
    same(weights.get('encoder.layer1.0.conv1.weight'), file.get('layer1.0.conv1.weight'));
    same(weights.get('encoder.bn1.running_var'), file.get('bn1.running_var'));
    const fresh = initWeights(g, 3);
    for (const name of report.initialized) same(weights.get(name), fresh.get(name));
    expect(report.kind).toBe('encoder');
    expect(report.initialized.every((n) => n.startsWith('head.'))).toBe(true);
    expect(report.ignored.map((i) => i.name)).toEqual(['fc.weight', 'fc.bias']);
    expect([...weights.keys()]).toEqual(g.params.map((p) => p.name));
    expect(report.adapted).toBeUndefined();
  });

  it("strips DataParallel's module. prefix and accepts files without BatchNorm counters", () => {
    const file = new Map(
      [...torchvisionEncoder(1)]
        .filter(([k]) => !k.endsWith('num_batches_tracked'))
        .map(([k, t]) => [`module.${k}`, t]),
    );
    const { weights, report } = transferWeights(model(1), file, { seed: 1 });
    expect(report.stripped).toBe('module.');
    expect(weights.get('encoder.bn1.num_batches_tracked')?.data).toEqual(new BigInt64Array([0n]));
  });

  it('fine-tunes a whole Siamese model: everything loads when the head matches', () => {
    const g = model(1);
    const file = initWeights(g, 9);
    const { weights, report } = transferWeights(g, file, { seed: 1 });
    expect(report).toMatchObject({ kind: 'siamese', initialized: [], ignored: [] });
    for (const [k, t] of file) same(weights.get(k), t);
  });

  it('keeps the encoder but not a head of another shape, and says why', () => {
    const file = initWeights(model(1, [32]), 9);
    const { weights, report } = transferWeights(model(1, [16]), file, { seed: 1 });
    same(weights.get('encoder.conv1.weight'), file.get('encoder.conv1.weight'));
    expect(report.ignored.find((i) => i.name === 'head.0.weight')?.why).toMatch(/this model's is \[16,\d+\]/);
    expect(report.initialized).toContain('head.0.weight');
  });

  it('adapts an RGB input convolution to grayscale by summing, and says so', () => {
    const file = torchvisionEncoder(3);
    const { weights, report } = transferWeights(model(1), file, { seed: 1 });
    expect(report.adapted).toEqual({ name: 'encoder.conv1.weight', from: 3, to: 1 });
    const rgb = file.get('conv1.weight')!;
    const grey = weights.get('encoder.conv1.weight')!;
    expect(grey.shape).toEqual([rgb.shape[0], 1, rgb.shape[2], rgb.shape[3]]);
    const k = (rgb.shape[2] as number) * (rgb.shape[3] as number);
    for (let o = 0; o < (rgb.shape[0] as number); o++) {
      for (let i = 0; i < k; i++) {
        const sum = [0, 1, 2].reduce((s, c) => s + (rgb.data[(o * 3 + c) * k + i] as number), 0);
        expect(grey.data[o * k + i]).toBeCloseTo(sum, 6);
      }
    }
  });

  it('gives a constant image the same response after adaptation, either way', () => {
    const rgb: Tensor = {
      dtype: 'float32',
      shape: [2, 3, 1, 2],
      data: Float32Array.from([1, 2, 3, 4, 5, 6, -1, 0, 2, 2, 1, 1]),
    };
    const response = (t: Tensor) => {
      const c = t.shape[1] as number;
      return [0, 1].map((o) =>
        Array.from({ length: c * 2 }, (_, i) => t.data[o * c * 2 + i] as number).reduce((a, b) => a + b),
      );
    };
    expect(response(adaptInputChannels(rgb, 1))).toEqual(response(rgb));
    const grey = adaptInputChannels(rgb, 1);
    const back = adaptInputChannels(grey, 3);
    for (const [i, v] of response(back).entries()) expect(v).toBeCloseTo(response(grey)[i]!, 5);
  });

  it('names the architecture a file of another one holds', () => {
    const file = torchvisionEncoder(1, 'resnet18_w16');
    expect(() => transferWeights(model(1), file, { seed: 1, source: 'r18.pth' })).toThrow(
      /^weights: r18\.pth: the file's weights do not fit this model's encoder: .*the file holds a resnet18_w16 encoder$/,
    );
  });

  it('lists missing encoder tensors and says when a file is no ResNet at all', () => {
    const file = torchvisionEncoder(1);
    file.delete('layer2.0.conv1.weight');
    expect(() => transferWeights(model(1), file, { seed: 1, source: 'x.safetensors' })).toThrow(
      "x.safetensors: the file's weights do not fit this model's encoder: 1 encoder tensor missing ('layer2.0.conv1.weight')",
    );
    const other = new Map([['embeddings.word.weight', file.get('conv1.weight')!]]);
    expect(() => transferWeights(model(1), other, { seed: 1 })).toThrow(
      /does not look like a torchvision ResNet state_dict/,
    );
  });

  it('refuses a layer of another width, naming it', () => {
    const file = torchvisionEncoder(1);
    const t = file.get('layer1.0.conv1.weight')!;
    file.set('layer1.0.conv1.weight', {
      ...t,
      shape: [t.shape[0] as number, 1, 3, 3],
      data: new Float32Array((t.shape[0] as number) * 9),
    });
    expect(() => transferWeights(model(1), file, { seed: 1, source: 'w.pth' })).toThrow(
      /^weights: w\.pth: 'layer1\.0\.conv1\.weight' has shape \[8,1,3,3\] but the model needs \[8,8,3,3\]; is the file for another architecture or width\?/,
    );
  });
});

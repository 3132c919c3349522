import { describe, expect, it } from 'vitest';
import { resnet, resnetPreset } from '../nn/resnet.js';
import { formatSummary, summarize } from './summary.js';

describe('summarize', () => {
  it('counts parameters, buffers and multiply-adds of a small encoder exactly', () => {
    // resnet10_w8, 1 channel, 32x32: stem conv 8x1x7x7 at 16x16, then one BasicBlock per stage.
    const g = resnet(resnetPreset('resnet10_w8', { inChannels: 1 }), { height: 32, width: 32 });
    const s = summarize(g, { N: 2 });
    const convParams =
      8 * 49 +
      8 * 8 * 9 * 2 +
      (16 * 8 * 9 + 16 * 16 * 9 + 16 * 8) +
      (32 * 16 * 9 + 32 * 32 * 9 + 32 * 16) +
      (64 * 32 * 9 + 64 * 64 * 9 + 64 * 32);
    const bnChannels = 8 + 8 * 2 + 16 * 3 + 32 * 3 + 64 * 3;
    expect(s.parameters).toBe(convParams + 2 * bnChannels);
    const bnCount = 1 + 2 + 3 * 3;
    expect(s.buffers).toBe(2 * bnChannels + bnCount);
    const conv = s.byOp.find((o) => o.op === 'conv2d')!;
    expect(conv.nodes).toBe(1 + 2 + 3 * 3);
    // stem conv alone: N * 8 * 16 * 16 outputs, 49 MACs each.
    expect(conv.flops).toBeGreaterThan(2 * 8 * 16 * 16 * 49);
    expect(s.flops).toBe(s.byOp.reduce((t, o) => t + o.flops, 0));
    expect(summarize(g, { N: 4 }).flops).toBe(2 * s.flops);
  });

  it('formats a readable table', () => {
    const g = resnet(resnetPreset('resnet18'), { height: 224, width: 224 });
    const text = formatSummary(g, summarize(g));
    expect(text).toContain('parameters  11,176,512');
    expect(text).toMatch(/multiply-adds 1\.8\d\d G/);
    expect(text).toMatch(/conv2d\s+x20/);
  });
});

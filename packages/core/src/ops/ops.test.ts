import { describe, expect, it } from 'vitest';
import { ShapeError } from '../ir/errors.js';
import type { Shape, TensorType } from '../ir/types.js';
import { OPS, type OpName, untypedSpec } from './table.js';

const f = (...shape: Shape): TensorType => ({ dtype: 'float32', shape });

/** Output shape of `op` for these inputs and raw attrs, through the same path the builder uses. */
function out(op: OpName, inputs: (TensorType | undefined)[], attrs: Record<string, unknown> = {}): Shape {
  const spec = untypedSpec(op);
  return spec.shape(inputs, spec.attrs(attrs))[0]!.shape;
}

function fails(
  op: OpName,
  inputs: (TensorType | undefined)[],
  attrs: Record<string, unknown>,
  message: RegExp,
): void {
  expect(() => out(op, inputs, attrs)).toThrow(ShapeError);
  expect(() => out(op, inputs, attrs)).toThrow(message);
}

describe('conv2d', () => {
  it('follows PyTorch output size for stride, padding and dilation', () => {
    expect(out('conv2d', [f('N', 3, 224, 224), f(64, 3, 7, 7)], { stride: 2, padding: 3 })).toEqual([
      'N',
      64,
      112,
      112,
    ]);
    expect(out('conv2d', [f(2, 64, 56, 56), f(64, 64, 3, 3)], { padding: 1 })).toEqual([2, 64, 56, 56]);
    expect(out('conv2d', [f(2, 64, 56, 56), f(128, 64, 3, 3)], { stride: 2, padding: 1 })).toEqual([
      2, 128, 28, 28,
    ]);
    expect(out('conv2d', [f(1, 8, 28, 28), f(8, 8, 3, 3)], { padding: 2, dilation: 2 })).toEqual([
      1, 8, 28, 28,
    ]);
    expect(out('conv2d', [f(1, 8, 105, 105), f(8, 8, 1, 1)], { stride: 2 })).toEqual([1, 8, 53, 53]);
    expect(out('conv2d', [f(1, 3, 10, 20), f(4, 3, 3, 5)], { stride: [1, 2], padding: [0, 2] })).toEqual([
      1, 4, 8, 10,
    ]);
  });
  it('checks groups, bias and channels', () => {
    expect(out('conv2d', [f(1, 64, 8, 8), f(64, 2, 3, 3), f(64)], { groups: 32, padding: 1 })).toEqual([
      1, 64, 8, 8,
    ]);
    fails(
      'conv2d',
      [f(1, 32, 8, 8), f(64, 64, 3, 3)],
      {},
      /input has 32 channels but weight f32\[64,64,3,3\] expects 64/,
    );
    fails('conv2d', [f(1, 64, 8, 8), f(60, 2, 3, 3)], { groups: 32 }, /not divisible by groups/);
    fails('conv2d', [f(1, 3, 8, 8), f(4, 3, 3, 3), f(5)], {}, /bias f32\[5\] must have 4 elements/);
    fails('conv2d', [f(1, 3, 2, 2), f(4, 3, 3, 3)], {}, /too small/);
    fails('conv2d', [f(1, 3, 8), f(4, 3, 3, 3)], {}, /rank 4/);
  });
  it('rejects bad attributes by name', () => {
    fails('conv2d', [f(1, 3, 8, 8), f(4, 3, 3, 3)], { stride: 0 }, /attribute 'stride'/);
    fails('conv2d', [f(1, 3, 8, 8), f(4, 3, 3, 3)], { padding: [1, -1] }, /attribute 'padding'/);
    fails('conv2d', [f(1, 3, 8, 8), f(4, 3, 3, 3)], { groups: 1.5 }, /attribute 'groups'/);
    fails('conv2d', [f(1, 3, 8, 8), f(4, 3, 3, 3)], { strides: 2 }, /unknown attribute 'strides'/);
  });
  it('counts multiply-adds per output element times the receptive field', () => {
    const a = OPS.conv2d.attrs({ stride: 2, padding: 3 });
    const flops = OPS.conv2d.flops([f('N', 3, 224, 224), f(64, 3, 7, 7)], [f('N', 64, 112, 112)], a, {
      N: 2,
    });
    expect(flops).toBe(2 * 64 * 112 * 112 * 3 * 7 * 7);
  });
});

describe('batchNorm', () => {
  it('keeps the shape and checks per-channel parameters', () => {
    const c = f(16);
    expect(out('batchNorm', [f('N', 16, 5, 5), c, c, c, c])).toEqual(['N', 16, 5, 5]);
    fails('batchNorm', [f('N', 16, 5, 5), c, c, f(8), c], {}, /runningMean f32\[8\] must have 16 elements/);
    fails('batchNorm', [f('N', 16, 5, 5), c, c, c, c], { momentum: 2 }, /attribute 'momentum'/);
    fails('batchNorm', [f('N', 16, 5, 5), c, c, c, undefined], {}, /input 'runningVar' is required/);
  });
});

describe('pooling', () => {
  it('maxPool2d matches the ResNet stem and ceil mode', () => {
    expect(out('maxPool2d', [f('N', 64, 112, 112)], { kernel: 3, stride: 2, padding: 1 })).toEqual([
      'N',
      64,
      56,
      56,
    ]);
    expect(out('maxPool2d', [f(1, 8, 53, 53)], { kernel: 3, stride: 2, padding: 1 })).toEqual([1, 8, 27, 27]);
    expect(out('maxPool2d', [f(1, 1, 6, 6)], { kernel: 3, stride: 2, ceilMode: true })).toEqual([1, 1, 3, 3]);
    expect(out('maxPool2d', [f(1, 1, 5, 5)], { kernel: 2, stride: 2, ceilMode: true })).toEqual([1, 1, 3, 3]);
    expect(out('maxPool2d', [f(1, 1, 4, 4)], { kernel: 2 })).toEqual([1, 1, 2, 2]);
    fails('maxPool2d', [f(1, 1, 4, 4)], { kernel: 2, padding: 2 }, /at most half the kernel/);
  });
  it('globalAvgPool keeps 1x1 spatial dims', () => {
    expect(out('globalAvgPool', [f('N', 512, 7, 7)])).toEqual(['N', 512, 1, 1]);
    fails('globalAvgPool', [f('N', 512)], {}, /rank 4/);
  });
});

describe('element-wise', () => {
  it('unary ops keep the shape', () => {
    for (const op of ['relu', 'abs', 'sigmoid'] as const) expect(out(op, [f('N', 3)])).toEqual(['N', 3]);
  });
  it('binary ops broadcast like numpy', () => {
    for (const op of ['add', 'sub', 'mul'] as const) {
      expect(out(op, [f('N', 4, 1), f(3)])).toEqual(['N', 4, 3]);
      expect(out(op, [f('N', 1), f('N', 1)])).toEqual(['N', 1]);
      fails(op, [f('N', 4), f('N', 3)], {}, /do not broadcast/);
    }
    fails('add', [f('N', 4), f('M', 4)], {}, /do not broadcast/);
  });
  it('rejects non-float inputs', () => {
    fails('relu', [{ dtype: 'int64', shape: [2] }], {}, /must be float32/);
  });
});

describe('linear and dropout', () => {
  it('linear maps the last dimension', () => {
    expect(out('linear', [f('N', 2048), f(1023, 2048), f(1023)])).toEqual(['N', 1023]);
    expect(out('linear', [f(2, 5, 4), f(3, 4), undefined])).toEqual([2, 5, 3]);
    fails(
      'linear',
      [f('N', 2048), f(1023, 1024)],
      {},
      /has 2048 features but weight f32\[1023,1024\] expects 1024/,
    );
    fails('linear', [f('N', 4), f(3, 4), f(4)], {}, /bias/);
  });
  it('dropout keeps the shape and validates p', () => {
    expect(out('dropout', [f('N', 7)], { p: 0.5 })).toEqual(['N', 7]);
    fails('dropout', [f('N', 7)], { p: 1 }, /below 1/);
    fails('dropout', [f('N', 7)], { p: -0.1 }, /attribute 'p'/);
  });
});

describe('layout', () => {
  it('flatten merges trailing dimensions', () => {
    expect(out('flatten', [f('N', 512, 1, 1)])).toEqual(['N', 512]);
    expect(out('flatten', [f('N', 2, 3, 4)], { axis: 2 })).toEqual(['N', 2, 12]);
    expect(out('flatten', [f('N', 2, 3, 4)], { axis: -1 })).toEqual(['N', 2, 3, 4]);
    fails('flatten', [f('N', 2)], { axis: 0 }, /symbolic|static/);
    fails('flatten', [f('N', 2)], { axis: 5 }, /out of range/);
  });
  it('concat adds up the axis', () => {
    expect(out('concat', [f('N', 3), f('N', 5), f('N', 1)], { axis: 1 })).toEqual(['N', 9]);
    fails('concat', [f('N', 3), f('N', 3, 1)], { axis: 1 }, /does not match/);
    fails('concat', [], {}, /at least one input/);
  });
});

describe('distances and normalization', () => {
  it('row distances give [N, 1]', () => {
    expect(out('euclideanDistance', [f('N', 64), f('N', 64)])).toEqual(['N', 1]);
    expect(out('cosineSimilarity', [f('N', 64), f('N', 64)])).toEqual(['N', 1]);
    fails('euclideanDistance', [f('N', 64), f('N', 32)], {}, /same shape/);
    fails('cosineSimilarity', [f('N', 64, 1), f('N', 64, 1)], {}, /rank 2/);
  });
  it('l2Normalize keeps the shape', () => {
    expect(out('l2Normalize', [f('N', 64)], { axis: 1 })).toEqual(['N', 64]);
    fails('l2Normalize', [f('N', 64)], { axis: 2 }, /out of range/);
  });
});

describe('reductions', () => {
  it('reduce the given axes, or all', () => {
    expect(out('reduceMean', [f('N', 3, 4)], { axes: [1, 2] })).toEqual(['N']);
    expect(out('reduceSum', [f('N', 3, 4)], { axes: [-1], keepDims: true })).toEqual(['N', 3, 1]);
    expect(out('reduceSum', [f('N', 3)])).toEqual([]);
    fails('reduceMean', [f('N', 3)], { axes: [1, 1] }, /repeats/);
    fails('reduceMean', [f('N', 3)], { axes: [2] }, /out of range/);
  });
});

describe('losses', () => {
  it('give scalars and check their inputs', () => {
    expect(out('bceWithLogits', [f('N', 1), f('N', 1)])).toEqual([]);
    expect(out('contrastiveLoss', [f('N', 1), f('N', 1)], { margin: 2 })).toEqual([]);
    expect(out('tripletLoss', [f('N', 8), f('N', 8), f('N', 8)])).toEqual([]);
    fails('bceWithLogits', [f('N', 1), f('N', 2)], {}, /same shape/);
    fails('contrastiveLoss', [f('N', 1), f('N', 1)], { margin: -1 }, /attribute 'margin'/);
    fails('tripletLoss', [f('N', 8), f('N', 8), f('N', 4)], {}, /negative/);
  });
});

describe('identity classification', () => {
  it('marginLogits keeps [N, C] and checks the labels against the rows', () => {
    expect(out('marginLogits', [f('N', 10), f('N')], { kind: 'arcface' })).toEqual(['N', 10]);
    expect(out('marginLogits', [f(4, 1), f(4)], { kind: 'normface' })).toEqual([4, 1]);
    fails('marginLogits', [f('N', 10), f('M')], { kind: 'cosface' }, /one entry per row/);
    fails('marginLogits', [f('N', 10), f('N', 1)], { kind: 'cosface' }, /rank 1/);
    fails('marginLogits', [f('N', 'C'), f('N')], { kind: 'cosface' }, /number of classes.*static/);
  });
  it("marginLogits fills each kind's defaults and rejects what a kind does not take", () => {
    const attrs = (raw: Record<string, unknown>) => OPS.marginLogits.attrs(raw);
    expect(attrs({ kind: 'normface' })).toEqual({
      kind: 'normface',
      scale: 30,
      margin: 0,
      easyMargin: false,
    });
    expect(attrs({ kind: 'cosface' })).toEqual({
      kind: 'cosface',
      scale: 30,
      margin: 0.35,
      easyMargin: false,
    });
    expect(attrs({ kind: 'arcface', scale: 64, easyMargin: true })).toEqual({
      kind: 'arcface',
      scale: 64,
      margin: 0.5,
      easyMargin: true,
    });
    fails('marginLogits', [f(2, 3), f(2)], {}, /attribute 'kind' is required/);
    fails('marginLogits', [f(2, 3), f(2)], { kind: 'sphereface' }, /attribute 'kind'/);
    fails(
      'marginLogits',
      [f(2, 3), f(2)],
      { kind: 'normface', margin: 0.2 },
      /must be 0 for kind 'normface'/,
    );
    fails('marginLogits', [f(2, 3), f(2)], { kind: 'cosface', easyMargin: true }, /arcface' only/);
    fails('marginLogits', [f(2, 3), f(2)], { kind: 'cosface', scale: 0 }, /attribute 'scale' must be > 0/);
    fails('marginLogits', [f(2, 3), f(2)], { kind: 'arcface', margin: -0.1 }, /attribute 'margin'/);
    fails('marginLogits', [f(2, 3), f(2)], { kind: 'arcface', margin: 4 }, /attribute 'margin'/);
  });
  it('softmaxCrossEntropy gives a scalar; softmax and oneHot keep [N, C]', () => {
    expect(out('softmaxCrossEntropy', [f('N', 7), f('N')])).toEqual([]);
    fails('softmaxCrossEntropy', [f('N', 7), f(3)], {}, /one entry per row/);
    expect(out('softmax', [f('N', 7)])).toEqual(['N', 7]);
    expect(out('softmax', [f(2, 3, 4)], { axis: 1 })).toEqual([2, 3, 4]);
    fails('softmax', [f('N', 7)], { axis: 2 }, /out of range/);
    expect(out('oneHot', [f('N'), f('N', 5)])).toEqual(['N', 5]);
    fails('oneHot', [f('N', 1), f('N', 5)], {}, /rank 1/);
  });
  it('count about one multiply-add per logit and a few per row', () => {
    const a = OPS.marginLogits.attrs({ kind: 'arcface' });
    expect(OPS.marginLogits.flops([f('N', 10), f('N')], [f('N', 10)], a, { N: 4 })).toBe(2 * 40 + 8 * 4);
    expect(OPS.softmaxCrossEntropy.flops([f('N', 10), f('N')], [f()], {}, { N: 4 })).toBe(160);
  });
});

describe('op table', () => {
  it('every op has a doc, inputs, outputs and rules', () => {
    for (const [name, spec] of Object.entries(OPS)) {
      expect(spec.doc.length, name).toBeGreaterThan(10);
      expect(spec.inputs.length, name).toBeGreaterThan(0);
      expect(spec.outputs.length, name).toBeGreaterThan(0);
    }
  });
});

describe('batchNorm counter', () => {
  it('accepts an int64 scalar counter and rejects anything else', () => {
    const c = f(4);
    const count = { dtype: 'int64' as const, shape: [] };
    expect(out('batchNorm', [f('N', 4, 2, 2), c, c, c, c, count])).toEqual(['N', 4, 2, 2]);
    fails('batchNorm', [f('N', 4, 2, 2), c, c, c, c, f()], {}, /numBatchesTracked must be an int64 scalar/);
  });
});

describe('training ops', () => {
  it('conv2d gradients give the forward input and weight shapes, and check dy against the forward', () => {
    const a = { stride: 2, padding: 1 };
    expect(out('conv2dInputGrad', [f('N', 8, 7, 7), f(8, 4, 3, 3)], { ...a, size: [14, 14] })).toEqual([
      'N',
      4,
      14,
      14,
    ]);
    // 13 rows also give 7 outputs at stride 2: the size attribute says which input it was.
    expect(out('conv2dInputGrad', [f('N', 8, 7, 7), f(8, 4, 3, 3)], { ...a, size: [13, 13] })).toEqual([
      'N',
      4,
      13,
      13,
    ]);
    expect(out('conv2dFilterGrad', [f('N', 4, 14, 14), f('N', 8, 7, 7)], { ...a, size: [3, 3] })).toEqual([
      8, 4, 3, 3,
    ]);
    expect(
      out('conv2dFilterGrad', [f('N', 4, 8, 8), f('N', 6, 8, 8)], { padding: 1, groups: 2, size: 3 }),
    ).toEqual([6, 2, 3, 3]);
    fails(
      'conv2dInputGrad',
      [f('N', 8, 7, 7), f(8, 4, 3, 3)],
      { ...a, size: [16, 16] },
      /does not match the forward output 8x8/,
    );
    fails('conv2dFilterGrad', [f('N', 4, 14, 14), f('M', 8, 7, 7)], { ...a, size: 3 }, /same batch/);
    fails('conv2dInputGrad', [f('N', 6, 7, 7), f(8, 4, 3, 3)], { ...a, size: 14 }, /must have 8 channels/);
  });

  it('maxPool2dGrad and the BatchNorm pair keep their inputs shapes', () => {
    const pool = { kernel: 3, stride: 2, padding: 1 };
    expect(out('maxPool2dGrad', [f('N', 2, 9, 9), f('N', 2, 5, 5)], pool)).toEqual(['N', 2, 9, 9]);
    fails('maxPool2dGrad', [f('N', 2, 9, 9), f('N', 2, 4, 4)], pool, /forward output shape/);
    const spec = untypedSpec('batchNormTrain');
    const outs = spec.shape([f('N', 3, 4, 4), f(3), f(3), f(3), f(3)], spec.attrs({}));
    expect(outs.map((t) => t.shape)).toEqual([['N', 3, 4, 4], [3], [3], [3], [3]]);
    fails(
      'batchNormGrad',
      [f('N', 3, 4, 5), f('N', 3, 4, 4), f(3), f(3), f(3)],
      {},
      /must have the shape of x/,
    );
  });

  it('broadcast helpers round-trip shapes, and slice and matmul check their bounds', () => {
    expect(out('sumTo', [f('N', 3, 4), f(3, 1)])).toEqual([3, 1]);
    expect(out('broadcastTo', [f('N', 3), f('N', 3, 4, 4)], { insertAxes: [2, 3] })).toEqual(['N', 3, 4, 4]);
    expect(out('reshapeLike', [f('N', 12), f('N', 3, 2, 2)])).toEqual(['N', 3, 2, 2]);
    fails('reshapeLike', [f('N', 12), f('N', 3, 2, 3)], {}, /sizes differ/);
    fails('sumTo', [f(3, 4), f(5)], {}, /do not broadcast/);
    expect(out('slice', [f('N', 10)], { axis: 1, start: 2, end: 5 })).toEqual(['N', 3]);
    fails('slice', [f('N', 4)], { axis: 1, start: 2, end: 5 }, /past dimension 1 of size 4/);
    expect(out('matmul', [f(5, 3), f(5, 4)], { transA: true })).toEqual([3, 4]);
    fails('matmul', [f(5, 3), f(4, 2)], {}, /inner sizes 3 vs 4/);
    expect(out('numel', [f('N', 3, 4)], { axes: [0, 2] })).toEqual([]);
    fails('clamp', [f(3)], { min: 2, max: 1 }, /must not exceed/);
  });
});

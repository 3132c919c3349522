/** batchNorm: PyTorch's BatchNorm2d, in train or eval mode (chosen when a graph is run). */
import { ShapeError } from '../ir/errors.js';
import { boundSize, formatType, shapesEqual } from '../ir/shape.js';
import type { TensorType } from '../ir/types.js';
import { checkKnown, none, num } from './attrs.js';
import { float } from './check.js';
import type { OpSpec } from './spec.js';

export interface BatchNormAttrs {
  readonly eps: number;
  /** Running-statistics update: running = (1 - momentum) * running + momentum * batch. */
  readonly momentum: number;
}

export const batchNorm: OpSpec<BatchNormAttrs> = {
  doc:
    'y = (x - mean) / sqrt(var + eps) * weight + bias per channel (dimension 1) of x [N, C, ...]. Eval mode uses the running buffers; ' +
    'train mode uses biased batch statistics and updates the running buffers with momentum, the variance unbiased, ' +
    'and adds 1 to the optional int64 counter numBatchesTracked (kept for PyTorch state_dict compatibility).',
  inputs: [
    { name: 'x' },
    { name: 'weight' },
    { name: 'bias' },
    { name: 'runningMean' },
    { name: 'runningVar' },
    { name: 'numBatchesTracked', optional: true },
  ],
  outputs: ['y'],
  attrs: (raw) => {
    checkKnown(raw, ['eps', 'momentum']);
    return { eps: num(raw, 'eps', 1e-5, 0), momentum: num(raw, 'momentum', 0.1, 0, 1) };
  },
  shape: ([xt, w, b, m, v, count]) => {
    const x = float(xt, 'x');
    if (x.shape.length < 2) throw new ShapeError(`input 'x' must have rank >= 2, got ${formatType(x)}`);
    const c = x.shape[1];
    const params = [w, b, m, v];
    ['weight', 'bias', 'runningMean', 'runningVar'].forEach((name, i) => {
      const p = float(params[i], name, 1);
      if (p.shape[0] !== c)
        throw new ShapeError(`${name} ${formatType(p)} must have ${String(c)} elements (x channels)`);
    });
    if (count && (count.dtype !== 'int64' || count.shape.length !== 0)) {
      throw new ShapeError(`numBatchesTracked must be an int64 scalar, got ${formatType(count)}`);
    }
    return [{ dtype: 'float32', shape: x.shape }];
  },
  // Folded into one multiply-add per element at inference.
  flops: (_i, [y], _a, bind) => boundSize(y!.shape, bind),
};

function checkChannels(
  x: TensorType,
  params: readonly (TensorType | undefined)[],
  names: readonly string[],
): void {
  names.forEach((name, i) => {
    const p = float(params[i], name, 1);
    if (p.shape[0] !== x.shape[1])
      throw new ShapeError(`${name} ${formatType(p)} must have ${String(x.shape[1])} elements (x channels)`);
  });
}

export const batchNormTrain: OpSpec<BatchNormAttrs> = {
  doc:
    'batchNorm in train mode with its statistics as outputs: mean and invStd = 1 / sqrt(var + eps) of the ' +
    'biased batch variance per channel, and the running buffers after the momentum update (variance unbiased).',
  inputs: [
    { name: 'x' },
    { name: 'weight' },
    { name: 'bias' },
    { name: 'runningMean' },
    { name: 'runningVar' },
  ],
  outputs: ['y', 'mean', 'invStd', 'runningMeanOut', 'runningVarOut'],
  attrs: batchNorm.attrs,
  shape: ([xt, ...params]) => {
    const x = float(xt, 'x');
    if (x.shape.length < 2) throw new ShapeError(`input 'x' must have rank >= 2, got ${formatType(x)}`);
    checkChannels(x, params, ['weight', 'bias', 'runningMean', 'runningVar']);
    const c: TensorType = { dtype: 'float32', shape: [x.shape[1]!] };
    return [{ dtype: 'float32', shape: x.shape }, c, c, c, c];
  },
  flops: (_i, [y], _a, bind) => 4 * boundSize(y!.shape, bind),
};

export const batchNormGrad: OpSpec<Record<string, never>> = {
  doc:
    'Gradients of train-mode batchNorm from dy, x, weight and the saved mean and invStd: ' +
    'dx = weight * invStd * (dy - mean(dy) - xhat * mean(dy * xhat)) with xhat = (x - mean) * invStd, ' +
    'means over every axis but 1; dweight = sum(dy * xhat); dbias = sum(dy).',
  inputs: [{ name: 'dy' }, { name: 'x' }, { name: 'weight' }, { name: 'mean' }, { name: 'invStd' }],
  outputs: ['dx', 'dweight', 'dbias'],
  attrs: none,
  shape: ([dyt, xt, ...params]) => {
    const x = float(xt, 'x');
    const dy = float(dyt, 'dy');
    if (x.shape.length < 2) throw new ShapeError(`input 'x' must have rank >= 2, got ${formatType(x)}`);
    if (!shapesEqual(x.shape, dy.shape))
      throw new ShapeError(`dy ${formatType(dy)} must have the shape of x ${formatType(x)}`);
    checkChannels(x, params, ['weight', 'mean', 'invStd']);
    const c: TensorType = { dtype: 'float32', shape: [x.shape[1]!] };
    return [{ dtype: 'float32', shape: x.shape }, c, c];
  },
  flops: (_i, [dx], _a, bind) => 6 * boundSize(dx!.shape, bind),
};

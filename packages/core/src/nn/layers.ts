/** Module-like helpers that declare parameters under torchvision's names and add their nodes. */
import type { GraphBuilder } from '../ir/builder.js';
import type { Value } from '../ir/types.js';
import { linearDefault } from './init.js';

export interface ConvOptions {
  readonly stride?: number;
  readonly padding?: number;
  readonly dilation?: number;
  readonly groups?: number;
  readonly bias?: boolean;
}

/** nn.Conv2d under scope `name`: `name.weight` [out, in/groups, k, k], Kaiming-normal (fan-out, relu). */
export function conv(
  b: GraphBuilder,
  name: string,
  x: Value,
  inC: number,
  outC: number,
  k: number,
  o: ConvOptions = {},
): Value {
  const groups = o.groups ?? 1;
  return b.scope(name, () => {
    const w = b.param('weight', [outC, inC / groups, k, k], {
      kind: 'kaimingNormal',
      mode: 'fanOut',
      nonlinearity: 'relu',
    });
    const bias = o.bias ? b.param('bias', [outC], { kind: 'zeros' }) : undefined;
    return b.op(
      'conv2d',
      [x, w, bias],
      {
        stride: o.stride ?? 1,
        padding: o.padding ?? 0,
        dilation: o.dilation ?? 1,
        groups,
      },
      '',
    );
  });
}

/** torchvision's conv3x3: padding = dilation, no bias. */
export function conv3x3(
  b: GraphBuilder,
  name: string,
  x: Value,
  inC: number,
  outC: number,
  stride = 1,
  groups = 1,
  dilation = 1,
): Value {
  return conv(b, name, x, inC, outC, 3, { stride, padding: dilation, dilation, groups });
}

/** torchvision's conv1x1: no padding, no bias. */
export function conv1x1(
  b: GraphBuilder,
  name: string,
  x: Value,
  inC: number,
  outC: number,
  stride = 1,
): Value {
  return conv(b, name, x, inC, outC, 1, { stride });
}

/** nn.BatchNorm2d: weight (1, or 0 for a zero-initialized residual), bias 0, running stats and counter. */
export function batchNorm2d(
  b: GraphBuilder,
  name: string,
  x: Value,
  channels: number,
  zeroInit = false,
): Value {
  return b.scope(name, () => {
    const weight = b.param('weight', [channels], zeroInit ? { kind: 'zeros' } : { kind: 'ones' });
    const bias = b.param('bias', [channels], { kind: 'zeros' });
    const mean = b.buffer('running_mean', [channels], { kind: 'zeros' });
    const variance = b.buffer('running_var', [channels], { kind: 'ones' });
    // PyTorch's counter, kept so state_dicts match; train mode increments it (momentum is always set).
    const count = b.buffer('num_batches_tracked', [], { kind: 'zeros' }, 'int64');
    return b.op('batchNorm', [x, weight, bias, mean, variance, count], { eps: 1e-5, momentum: 0.1 }, '');
  });
}

/** nn.Linear with PyTorch's default initialization. */
export function linear(
  b: GraphBuilder,
  name: string,
  x: Value,
  inF: number,
  outF: number,
  bias = true,
): Value {
  return b.scope(name, () => {
    const w = b.param('weight', [outF, inF], linearDefault(inF));
    const bv = bias ? b.param('bias', [outF], linearDefault(inF)) : undefined;
    return b.op('linear', [x, w, bv], {}, '');
  });
}

export function relu(b: GraphBuilder, x: Value, name = 'relu'): Value {
  return b.op('relu', [x], {}, name);
}

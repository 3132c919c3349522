/**
 * batchNorm whose statistics sit under no one module path is emitted as F.batch_norm: it follows
 * the module's train/eval mode (`self.training`), as nn.BatchNorm2d does, rather than always
 * normalising with the running statistics.
 */
import { GraphBuilder, IR_VERSION } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { modelSource } from './module.js';

describe('batchNorm, functional form', () => {
  it('follows self.training', () => {
    const b = new GraphBuilder('loose-bn');
    const x = b.input('x', 'float32', [2, 3, 4, 4]);
    const gamma = b.param('gamma', [3], { kind: 'ones' });
    const beta = b.param('beta', [3], { kind: 'zeros' });
    const mean = b.buffer('mu', [3], { kind: 'zeros' });
    const variance = b.buffer('sigma2', [3], { kind: 'ones' });
    const count = b.buffer('seen', [], { kind: 'zeros' }, 'int64');
    b.output('y', b.op('batchNorm', [x, gamma, beta, mean, variance, count], { eps: 1e-5, momentum: 0.1 }));
    const { source } = modelSource(b.build(), '', IR_VERSION);
    expect(source).toMatch(
      /F\.batch_norm\(\s*x, self\.mu, self\.sigma2, self\.gamma, self\.beta, self\.training, 0\.1,/,
    );
    expect(source).not.toContain('False');
  });
});

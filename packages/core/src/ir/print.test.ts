import { expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';
import { printGraph } from './print.js';

it('prints a readable text form', () => {
  const b = new GraphBuilder('tiny');
  const x = b.input('x', 'float32', ['N', 1, 8, 8]);
  const y = b.scope('conv', () => {
    const w = b.param('weight', [2, 1, 3, 3], {
      kind: 'kaimingNormal',
      mode: 'fanOut',
      nonlinearity: 'relu',
    });
    const bias = b.param('bias', [2], { kind: 'uniform', bound: 1 / 3 });
    return b.op('conv2d', [x, w, bias], { stride: 2, padding: 1 }, '');
  });
  const m = b.buffer('count', [], { kind: 'zeros' }, 'int64');
  b.output('y', b.op('flatten', [b.op('relu', [y])]));
  b.output('count', m);
  expect(printGraph(b.build())).toBe(
    [
      'graph tiny(x: f32[N,1,8,8]) {',
      '  param conv.weight: f32[2,1,3,3] = kaimingNormal(fanOut, relu)',
      '  param conv.bias: f32[2] = uniform(±0.333333)',
      '  buffer count: i64[] = zeros',
      '  %conv: f32[N,2,4,4] = conv2d(%x, %conv.weight, %conv.bias) {stride=[2,2], padding=[1,1], dilation=[1,1], groups=1}',
      '  %relu: f32[N,2,4,4] = relu(%conv)',
      '  %flatten: f32[N,32] = flatten(%relu) {axis=1}',
      '  return y=%flatten, count=%count',
      '}',
    ].join('\n'),
  );
});

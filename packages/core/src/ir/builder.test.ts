import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';
import { GraphError } from './errors.js';

describe('GraphBuilder', () => {
  it('scopes parameter and node names like a module tree', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', 'float32', ['N', 3, 8, 8]);
    const y = b.scope('layer1', () =>
      b.scope(0, () => {
        const w = b.param('weight', [4, 3, 3, 3], {
          kind: 'kaimingNormal',
          mode: 'fanOut',
          nonlinearity: 'relu',
        });
        return b.op('conv2d', [x, w], { padding: 1 }, '');
      }),
    );
    b.output('y', y);
    const g = b.build();
    expect(g.params.map((p) => p.name)).toEqual(['layer1.0.weight']);
    expect(g.nodes[0]!.name).toBe('layer1.0');
    expect(y.shape).toEqual(['N', 4, 8, 8]);
  });

  it('stores attributes with defaults filled in', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', 'float32', ['N', 1, 8, 8]);
    const y = b.op('maxPool2d', [x], { kernel: 3, stride: 2, padding: 1 });
    b.output('y', y);
    expect(b.build().nodes[0]!.attrs).toEqual({
      kernel: [3, 3],
      stride: [2, 2],
      padding: [1, 1],
      dilation: [1, 1],
      ceilMode: false,
    });
  });

  it('branches share parameters but not node names', () => {
    const b = new GraphBuilder('t');
    const x1 = b.input('x1', 'float32', ['N', 4]);
    const x2 = b.input('x2', 'float32', ['N', 4]);
    const enc = (x: typeof x1) =>
      b.scope('enc', () =>
        b.op('linear', [x, b.param('weight', [2, 4], { kind: 'uniform', bound: 0.5 })], {}, ''),
      );
    const a = b.branch('a', () => enc(x1));
    const c = b.branch('b', () => enc(x2));
    b.output('a', a);
    b.output('b', c);
    const g = b.build();
    expect(g.params.map((p) => p.name)).toEqual(['enc.weight']);
    expect(g.nodes.map((n) => n.name)).toEqual(['a/enc', 'b/enc']);
    expect(g.nodes.map((n) => n.inputs[1])).toEqual(['enc.weight', 'enc.weight']);
  });

  it('makes repeated node names unique', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', 'float32', ['N', 4]);
    const y = b.op('relu', [b.op('relu', [b.op('relu', [x])])]);
    b.output('y', y);
    expect(b.build().nodes.map((n) => n.name)).toEqual(['relu', 'relu_1', 'relu_2']);
  });

  it('rejects a parameter redeclared with another shape', () => {
    const b = new GraphBuilder('t');
    b.param('w', [2, 2], { kind: 'zeros' });
    expect(() => b.param('w', [2, 3], { kind: 'zeros' })).toThrow(
      /parameter 'w' is declared again as f32\[2,3\], but it is parameter f32\[2,2\]/,
    );
  });

  it('names the node when a shape rule fails while building', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', 'float32', ['N', 32, 8, 8]);
    const w = b.scope('conv', () => b.param('weight', [64, 64, 3, 3], { kind: 'zeros' }));
    expect(() => b.scope('conv', () => b.op('conv2d', [x, w], {}, ''))).toThrow(GraphError);
    expect(() => b.scope('conv', () => b.op('conv2d', [x, w], {}, ''))).toThrow(
      /node 'conv' \(conv2d\): input has 32 channels .*inputs: x=x f32\[N,32,8,8\], weight=conv.weight f32\[64,64,3,3\]/,
    );
  });

  it('rejects duplicate inputs and outputs', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', 'float32', [1]);
    expect(() => b.input('x', 'float32', [1])).toThrow(/name 'x' is already used/);
    b.output('y', x);
    expect(() => b.output('y', x)).toThrow(/output 'y' is declared twice/);
  });
});

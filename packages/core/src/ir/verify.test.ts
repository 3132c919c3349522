import { describe, expect, it } from 'vitest';
import { resnet, resnetPreset } from '../nn/resnet.js';
import { GraphError } from './errors.js';
import type { Graph, Node } from './types.js';
import { verify } from './verify.js';

const tiny = (): Graph => resnet(resnetPreset('resnet10_w8', { inChannels: 1 }), { height: 32, width: 32 });

function withNode(g: Graph, name: string, edit: (n: Node) => Node): Graph {
  return { ...g, nodes: g.nodes.map((n) => (n.name === name ? edit(n) : n)) };
}

describe('verify', () => {
  it('accepts a built graph', () => {
    expect(() => verify(tiny())).not.toThrow();
  });

  it('names the node whose channel counts disagree', () => {
    const g = tiny();
    // Feed layer2's first conv from the stem input instead of layer1's output: 1 channel, not 8.
    const bad = withNode(g, 'layer2.0.conv1', (n) => ({ ...n, inputs: ['x', n.inputs[1]!] }));
    expect(() => verify(bad)).toThrow(GraphError);
    expect(() => verify(bad)).toThrow(
      /node 'layer2\.0\.conv1' \(conv2d\): input has 1 channels but weight f32\[16,8,3,3\] expects 8/,
    );
  });

  it('names the node with a bad attribute', () => {
    const bad = withNode(tiny(), 'maxpool', (n) => ({ ...n, attrs: { ...n.attrs, kernel: [0, 3] } }));
    expect(() => verify(bad)).toThrow(
      /node 'maxpool' \(maxPool2d\): attribute 'kernel' must be an integer >= 1/,
    );
  });

  it('names the node with an unknown op', () => {
    const bad = withNode(tiny(), 'relu', (n) => ({ ...n, op: 'gelu' }));
    expect(() => verify(bad)).toThrow(/node 'relu' \(gelu\): unknown op 'gelu'/);
  });

  it('catches a declared output type that the rule does not give', () => {
    const g = tiny();
    const bad = { ...g, values: { ...g.values, flatten: { dtype: 'float32' as const, shape: ['N', 63] } } };
    expect(() => verify(bad)).toThrow(
      /node 'flatten' \(flatten\): output 'flatten' is declared f32\[N,63\] but the shape rule gives f32\[N,64\]/,
    );
  });

  it('catches use before definition, wrong arity and dangling outputs', () => {
    const g = tiny();
    const swapped = { ...g, nodes: [g.nodes[1]!, g.nodes[0]!, ...g.nodes.slice(2)] };
    expect(() => verify(swapped)).toThrow(/refers to 'conv1', which is not defined before this node/);
    const arity = withNode(g, 'relu', (n) => ({ ...n, inputs: [...n.inputs, 'x'] }));
    expect(() => verify(arity)).toThrow(/node 'relu' \(relu\): takes 1\.\.1 inputs/);
    const dangling = { ...g, outputs: [{ name: 'embedding', value: 'nope' }] };
    expect(() => verify(dangling)).toThrow(/graph output 'embedding' refers to 'nope'/);
  });

  it('catches trainable buffers and symbolic parameter shapes', () => {
    const g = tiny();
    const p = g.params.find((q) => q.kind === 'buffer')!;
    const trainable = { ...g, params: g.params.map((q) => (q === p ? { ...q, trainable: true } : q)) };
    expect(() => verify(trainable)).toThrow(`buffer '${p.name}' cannot be trainable`);
    const symbolic = {
      ...g,
      params: g.params.map((q, i) => (i === 0 ? { ...q, shape: ['K', 1, 7, 7] } : q)),
    };
    expect(() => verify(symbolic)).toThrow(/must have a static shape/);
  });
});

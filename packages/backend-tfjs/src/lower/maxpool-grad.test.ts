/**
 * tfjs's own gradient of the maxPool2d lowering (what tfjs training differentiates) against
 * PyTorch's max-pool gradients: core's maxPool2dGrad conformance cases, on cpu and on wasm.
 */
import { GraphBuilder, type MaxPool2dAttrs } from '@siamese/core';
import { closeEnough, loadConformanceCases } from '@siamese/core/conformance';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveDevice } from '../device.js';
import { fromConformance } from '../test-util.js';
import { compileGraph } from './compile.js';

const cases = (await loadConformanceCases()).filter((c) => c.op === 'maxPool2dGrad');

describe.each(['js', 'wasm'] as const)('tf.grad of maxPool2d on %s', (device) => {
  beforeAll(async () => {
    await resolveDevice(device);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const [x, dy] = c.inputs as [NonNullable<(typeof c.inputs)[0]>, NonNullable<(typeof c.inputs)[1]>];
    const b = new GraphBuilder('pool');
    const xi = b.input('x', 'float32', [...x.shape]);
    const dyi = b.input('dy', 'float32', [...dy.shape]);
    const y = b.op('maxPool2d', [xi], c.attrs as Partial<MaxPool2dAttrs>);
    b.output('loss', b.op('reduceSum', [b.op('mul', [y, dyi])]));
    const run = compileGraph(b.build(), { mode: 'train', seed: 1 });
    const dyT = fromConformance(dy);
    const g = tf.grad((xt: tf.Tensor) => run.run({ x: xt, dy: dyT }, new Map()).outputs.loss as tf.Scalar)(
      fromConformance(x),
    );
    const cmp = closeEnough(await g.data(), c.outputs[0]!, c.tolerance);
    tf.dispose([g, dyT]);
    expect(cmp.ok, cmp.message).toBe(true);
  });
});

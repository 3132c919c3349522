/** Every core conformance case, on the pure-JS cpu backend and on wasm. */

import { OPS } from '@siamese/core';
import { caseId, closeEnough, loadConformanceCases } from '@siamese/core/conformance';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDevice } from '../device.js';
import { caseGraph } from '../test-util.js';
import { compileGraph } from './compile.js';
import { LOWERINGS } from './table.js';

const cases = await loadConformanceCases();

it('lowers every op of the op table, and every op has conformance cases', () => {
  expect(Object.keys(LOWERINGS).sort()).toEqual(Object.keys(OPS).sort());
  expect(new Set(cases.map((c) => c.op))).toEqual(new Set(Object.keys(OPS)));
});

describe.each(['js', 'wasm'] as const)('conformance on %s', (device) => {
  beforeAll(async () => {
    await resolveDevice(device);
    expect(tf.getBackend()).toBe(device === 'js' ? 'cpu' : 'wasm');
  });
  afterAll(() => tf.disposeVariables());

  it.each(cases.map((c) => [caseId(c), c] as const))('%s', async (_id, c) => {
    const before = tf.memory().numTensors;
    const { graph, feeds, params, names } = caseGraph(c);
    const run = compileGraph(graph, { mode: c.mode });
    const result = tf.tidy(() => {
      const r = run.run(feeds, params);
      const extra = c.outputs.slice(1).map((_, i) => r.outputs[`y${i + 1}`]!);
      return { y: r.outputs.y!, extra, buffers: [...r.buffers] };
    });
    const check = async (t: tf.Tensor, want: (typeof c.outputs)[number], what: string) => {
      expect(t.shape, what).toEqual(want.shape);
      const cmp = closeEnough(await t.data(), want, c.tolerance);
      expect(cmp.ok, `${what}: ${cmp.message}`).toBe(true);
    };
    await check(result.y, c.outputs[0]!, 'output');
    for (const [i, t] of result.extra.entries()) await check(t, c.outputs[i + 1]!, `output ${i + 1}`);
    if (c.buffers) {
      const got = new Map(result.buffers);
      await check(got.get(names[3]!)!, c.buffers.runningMean, 'runningMean');
      await check(got.get(names[4]!)!, c.buffers.runningVar, 'runningVar');
    }
    tf.dispose([
      result.y,
      ...result.extra,
      ...result.buffers.map(([, t]) => t),
      ...Object.values(feeds),
      ...[...params.values()].map((v) => v.t),
    ]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

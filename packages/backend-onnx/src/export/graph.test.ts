/** Output naming: public names without Identity where possible, with it where a value is exposed twice or is an input. */
import { fromBinary } from '@bufbuild/protobuf';
import { GraphBuilder } from '@siamese/core';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { expect, it } from 'vitest';
import { ModelProtoSchema } from '../proto/onnx_pb.js';
import { exportOnnx } from './model.js';

it('exposes a value twice and an input directly under their public names', async () => {
  const b = new GraphBuilder('names');
  const x = b.input('x', 'float32', ['N', 3]);
  // A node named like a public output of another value must not steal its name.
  const r = b.op('relu', [x], {}, 'twice');
  b.output('first', r);
  b.output('twice', b.op('abs', [x], {}, 'other'));
  b.output('again', r);
  b.output('passthrough', x);
  const bytes = exportOnnx(b.build(), new Map());
  const g = fromBinary(ModelProtoSchema, bytes).graph!;
  expect(g.output.map((o) => o.name)).toEqual(['first', 'twice', 'again', 'passthrough']);
  expect(g.node.map((n) => n.opType)).toEqual(['Relu', 'Abs', 'Identity', 'Identity']);

  const s = await InferenceSession.create(bytes);
  const out = await s.run({ x: new OrtTensor('float32', Float32Array.of(-1, 2, -3), [1, 3]) });
  await s.release();
  expect([...(out.first!.data as Float32Array)]).toEqual([0, 2, 0]);
  expect([...(out.twice!.data as Float32Array)]).toEqual([1, 2, 3]);
  expect([...(out.again!.data as Float32Array)]).toEqual([0, 2, 0]);
  expect([...(out.passthrough!.data as Float32Array)]).toEqual([-1, 2, -3]);
});

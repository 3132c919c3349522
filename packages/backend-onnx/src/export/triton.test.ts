/** The Triton repository layout, read back through a small protobuf-text-format parser. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWeights, siamese } from '@siamese/core';
import { afterAll, describe, expect, it } from 'vitest';
import { exportSiameseCut } from './cuts.js';
import { tritonConfig, tritonRepository, tritonTensors } from './triton.js';

type Text = string | number | TextMessage | Text[];
interface TextMessage {
  [field: string]: Text;
}

/** Protobuf text format, enough for config.pbtxt: fields, messages, lists; a repeated field becomes an array. */
function parsePbtxt(src: string): TextMessage {
  const tokens = src.match(/"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?|[{}[\]:,]/g) ?? [];
  let pos = 0;
  const next = (): string => {
    const t = tokens[pos++];
    if (t === undefined) throw new Error('pbtxt: unexpected end');
    return t;
  };
  const value = (): Text => {
    const t = next();
    if (t === '{') return message('}');
    if (t === '[') {
      const list: Text[] = [];
      while (tokens[pos] !== ']') {
        list.push(value());
        if (tokens[pos] === ',') pos++;
      }
      pos++;
      return list;
    }
    if (t.startsWith('"')) return JSON.parse(t) as string;
    return /^-?\d/.test(t) ? Number(t) : t;
  };
  const message = (end: string | undefined): TextMessage => {
    const m: TextMessage = {};
    while (pos < tokens.length && tokens[pos] !== end) {
      const key = next();
      if (tokens[pos] === ':') pos++;
      const v = value();
      const prev = m[key];
      m[key] = prev === undefined ? v : Array.isArray(prev) && !Array.isArray(v) ? [...prev, v] : [prev, v];
    }
    if (end) pos++;
    return m;
  };
  return message(undefined);
}

describe('tritonRepository', () => {
  const graph = siamese({
    encoder: 'resnet10_w8',
    input: { channels: 1, height: 16, width: 16 },
    head: { hidden: [8] },
  });
  const model = exportSiameseCut(graph, initWeights(graph, 1), 'pair');
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes <dir>/<name>/config.pbtxt and <dir>/<name>/1/model.onnx', async () => {
    dir = await mkdtemp(join(tmpdir(), 'siamese-triton-'));
    const paths = await tritonRepository(dir, 'siamese_pair', model, {
      ...tritonTensors(model),
      maxBatchSize: 32,
      instance: 'gpu',
      count: 2,
    });
    expect(paths).toEqual({
      config: join(dir, 'siamese_pair', 'config.pbtxt'),
      model: join(dir, 'siamese_pair', '1', 'model.onnx'),
    });
    expect(new Uint8Array(await readFile(paths.model))).toEqual(model);
    // Atomic writes leave no temp files behind.
    expect((await readdir(join(dir, 'siamese_pair'))).sort()).toEqual(['1', 'config.pbtxt']);
    expect(await readdir(join(dir, 'siamese_pair', '1'))).toEqual(['model.onnx']);

    const config = parsePbtxt(await readFile(paths.config, 'utf8'));
    expect(config).toEqual({
      name: 'siamese_pair',
      platform: 'onnxruntime_onnx',
      max_batch_size: 32,
      input: [
        { name: 'x1', data_type: 'TYPE_FP32', dims: [1, 16, 16] },
        { name: 'x2', data_type: 'TYPE_FP32', dims: [1, 16, 16] },
      ],
      output: [
        { name: 'logit', data_type: 'TYPE_FP32', dims: [1] },
        { name: 'probability', data_type: 'TYPE_FP32', dims: [1] },
      ],
      dynamic_batching: {},
      instance_group: [{ kind: 'KIND_GPU', count: 2 }],
    });
  });

  it('uses KIND_CPU and count 1 by default for cpu', () => {
    const text = tritonConfig('enc', {
      inputs: [{ name: 'image', dims: [1, 16, 16] }],
      outputs: [{ name: 'embedding', dims: [64] }],
      maxBatchSize: 8,
      instance: 'cpu',
    });
    expect(parsePbtxt(text).instance_group).toEqual([{ kind: 'KIND_CPU', count: 1 }]);
  });

  it('rejects bad names, batch sizes and counts', () => {
    const io = { inputs: [{ name: 'x', dims: [1] }], outputs: [{ name: 'y', dims: [1] }] };
    expect(() => tritonConfig('../up', { ...io, maxBatchSize: 1, instance: 'cpu' })).toThrow(/model name/);
    expect(() => tritonConfig('m', { ...io, maxBatchSize: 0, instance: 'cpu' })).toThrow(/maxBatchSize/);
    expect(() => tritonConfig('m', { ...io, maxBatchSize: 4, instance: 'cpu', count: 0 })).toThrow(/count/);
    expect(() => tritonConfig('m', { ...io, maxBatchSize: 4, instance: 'tpu' as never })).toThrow(/instance/);
  });
});

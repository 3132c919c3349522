import { defaultPreprocessing } from '@siamese/core';
import { describe, expect, it } from 'vitest';
import { parseManifest, WEB_MANIFEST_FORMAT } from './manifest.js';

const file = (path: string) => ({ path, bytes: 10, sha256: 'a'.repeat(64) });
const good = {
  format: WEB_MANIFEST_FORMAT,
  version: 1,
  irVersion: 1,
  precision: 'fp32',
  preprocessing: defaultPreprocessing({ channels: 3, height: 32, width: 32 }),
  threshold: { probability: 0.7, method: 'eer' },
  embeddingSize: 64,
  files: { encoder: file('encoder.onnx'), head: file('head.onnx') },
};

describe('parseManifest', () => {
  it('accepts what siamese export --web writes', () => {
    expect(parseManifest(good, 'm.json')).toEqual(good);
  });

  it.each<[object, string]>([
    [{ format: 'other' }, 'm.json: format must be \'siamese-web-model\', got "other"'],
    [{ version: 2 }, 'm.json: version 2 is not supported (this @siamese/web reads version 1)'],
    [{ precision: 'fp16' }, "m.json: precision must be 'fp32' or 'int8', got \"fp16\""],
    [{ embeddingSize: 0 }, 'm.json: embeddingSize must be a positive integer, got 0'],
    [{ threshold: { probability: 2 } }, 'm.json: threshold.probability must be a number in [0, 1], got 2'],
    [
      { preprocessing: { ...good.preprocessing, std: [1, 0, 1] } },
      'm.json: preprocessing.std must be positive, got [1,0,1]',
    ],
    [
      { files: { encoder: file('../../etc/passwd'), head: file('head.onnx') } },
      'm.json: files.encoder.path must be a relative path inside the model folder, got "../../etc/passwd"',
    ],
    ...[
      '\\\\evil.example/x.onnx',
      '%2e%2e/%2e%2e/x.onnx',
      ' https://evil.example/x',
      'a/./b.onnx',
      '/abs.onnx',
      'a b.onnx',
    ].map((path): [object, string] => [
      { files: { encoder: file(path), head: file('head.onnx') } },
      `m.json: files.encoder.path must be a relative path inside the model folder, got ${JSON.stringify(path)}`,
    ]),
    [
      { files: { encoder: file('encoder.onnx'), head: { ...file('h.onnx'), sha256: 'xyz' } } },
      'm.json: files.head.sha256 must be 64 hex digits, got "xyz"',
    ],
  ])('names the field at fault: %j', (change, message) => {
    expect(() => parseManifest({ ...good, ...change }, 'm.json')).toThrow(message);
  });
});

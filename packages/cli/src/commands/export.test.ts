import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSession } from '@siamese/backend-onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel, siameseCli, tempDir } from '../test/cli.js';

describe('siamese export (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'));
  });
  afterAll(() => tmp.remove());

  it('writes MODEL/pair.onnx by default, a model onnxruntime runs', async () => {
    const r = await siameseCli(['export', model, '--format', 'onnx']);
    expect(r.code).toBe(0);
    const out = join(model, 'pair.onnx');
    expect(r.stdout.trim()).toMatch(
      new RegExp(
        `^wrote ${out} \\(pair cut: x1, x2 images -> logit, probability; 1x28x28 images; ONNX opset 17, [\\d.]+ KiB\\)$`,
      ),
    );
    const { session } = await createSession(await readFile(out), { device: 'cpu' });
    expect(session.inputNames).toEqual(['x1', 'x2']);
    expect(session.outputNames).toEqual(['logit', 'probability']);
    await session.release();
    // Atomic writes leave no temporary files behind.
    expect((await readdir(model)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('writes the encoder cut where --out says, creating folders', async () => {
    const out = join(tmp.path, 'nested/deeper/encoder.onnx');
    const r = await siameseCli(['export', model, '--cut', 'encoder', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote ${out} (encoder cut: image -> embedding;`);
    const { session } = await createSession(await readFile(out), { device: 'cpu' });
    expect(session.inputNames).toEqual(['image']);
    expect(session.outputNames).toEqual(['embedding']);
    await session.release();
  });

  it('writes a Triton model repository', async () => {
    const repo = join(tmp.path, 'triton');
    const r = await siameseCli([
      'export',
      model,
      '--cut',
      'head',
      '--triton',
      repo,
      '--instance',
      'gpu',
      '--max-batch',
      '8',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^wrote ${join(repo, 'siamese_head/1/model.onnx')} \\(head cut`)),
      `wrote ${join(repo, 'siamese_head/config.pbtxt')} (Triton: onnxruntime backend, gpu instance, dynamic batching up to 8)`,
    ]);
    const config = await readFile(join(repo, 'siamese_head/config.pbtxt'), 'utf8');
    expect(config).toContain('name: "siamese_head"');
    expect(config).toContain('max_batch_size: 8');
    expect(config).toContain('kind: KIND_GPU');
    expect(config).toContain('name: "embeddingA"');
  });

  it('refuses bad flags in one line', async () => {
    for (const [args, message] of [
      [['--format', 'tflite'], /--format 'tflite' is not one of onnx/],
      [['--cut', 'neck'], /--cut 'neck' is not one of pair, encoder, head/],
      [['--instance', 'gpu'], /--instance needs --triton DIR/],
      [['--triton', tmp.path, '--max-batch', '0'], /--max-batch must be a positive integer, got '0'/],
      [['--triton', tmp.path, '--name', '../x'], /--name '..\/x' must be letters/],
      [['--out', tmp.path], /--out '.*' is a folder; name the .onnx file/],
    ] as const) {
      const r = await siameseCli(['export', model, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.errLines).toEqual([expect.stringMatching(message)]);
    }
  });
});

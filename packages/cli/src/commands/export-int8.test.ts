/**
 * `siamese export --quantize int8` end to end with the built binary: a briefly trained model is
 * calibrated on its own split's validation part, compared with fp32 on the test part, written as
 * an int8 model folder, and run by info, compare, eval and export without a flag. Bad requests
 * are one line, exit 2, and write nothing.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSession } from '@siamese/backend-onnx';
import { loadModel } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, siameseCli, tempDir } from '../test/cli.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let run: string;
let model: string;
let int8: string;
let exported: Awaited<ReturnType<typeof siameseCli>>;
const CALIBRATE = ['--calibration-images', '128'];

beforeAll(async () => {
  tmp = await tempDir('siamese-int8-');
  run = join(tmp.path, 'run');
  const trained = await siameseCli([
    'train',
    '--data',
    'mnist',
    '--arch',
    'resnet10_w8',
    '--epochs',
    '4',
    '--pairs-per-epoch',
    '2000',
    '--lr',
    '0.003',
    '--val-pairs',
    '300',
    '--out',
    run,
  ]);
  expect(trained.code, trained.stderr).toBe(0);
  model = join(run, 'model');
  int8 = join(tmp.path, 'model-int8');
  exported = await siameseCli([
    'export',
    model,
    '--quantize',
    'int8',
    '--calibrate',
    'mnist',
    ...CALIBRATE,
    '--out',
    int8,
  ]);
}, 240_000);
afterAll(() => tmp.remove());

describe('siamese export --quantize int8', () => {
  it("calibrates on the training split's validation part and judges on its test part", () => {
    expect(exported.code, exported.stderr).toBe(0);
    const out = exported.stdout;
    expect(out).toContain(
      `the validation part of ${join(run, 'split.json')}, the split the model was trained with`,
    );
    expect(out).toMatch(/calibrating \(minmax\) on 128 images: mnist#val: .* \(part 'val' of split/);
    expect(out).toMatch(
      /comparing int8 with fp32 on 1,000 held-out pairs \(mnist#test: .*part 'test' of split/,
    );
    expect(out).toMatch(/ROC AUC\s+0\.\d{4}\s+0\.\d{4}/);
    expect(out).toMatch(/\(within targets\)/);
    expect(out).toMatch(/wrote .*model-int8 \(int8 model: encoder\.int8\.onnx .*, pair\.int8\.onnx /);
  });

  it('writes a model folder whose model.json binds the int8 files and records the comparison', async () => {
    expect((await readdir(int8)).sort()).toEqual([
      'encoder.int8.onnx',
      'model.json',
      'pair.int8.onnx',
      'weights.safetensors',
    ]);
    const m = await loadModel(int8);
    const r = m.quantization!.record;
    expect(m.quantization!.precision).toBe('int8');
    expect(r.calibration).toMatchObject({ method: 'minmax', images: 128 });
    expect(r.comparison.pairs).toBe(1000);
    expect(r.comparison.aucDrop).toBeLessThanOrEqual(0.002);
    expect(r.comparison.accuracyDrop).toBeLessThanOrEqual(0.005);
    expect(r.comparison.accepted).toBe('within-targets');
    expect(r.threshold?.method).toBe('eer');
    // The fp32 threshold stays the model's; the int8 one is re-fitted and recorded apart.
    expect(m.threshold).toEqual((await loadModel(model)).threshold);
    // The ONNX carries the int8 threshold in its metadata, and QDQ nodes.
    const { session } = await createSession(m.quantization!.onnx.pair!, { device: 'cpu', threads: 1 });
    await session.release();
    const text = new TextDecoder('latin1').decode(m.quantization!.onnx.encoder);
    expect(text).toContain('QuantizeLinear');
    expect(text).toContain('"format":"QDQ"');
  });

  it('info shows the precision and the stored comparison', async () => {
    const r = await siameseCli(['info', int8]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^precision {3}int8, QDQ .*encoder and pair cuts in int8, the head in fp32/m);
    expect(r.stdout).toMatch(/^int8 threshold \d\.\d{4}, calibrated at the equal error rate/m);
    expect(r.stdout).toMatch(/int8 vs fp32 on mnist#test/);
    const fp32 = await siameseCli(['info', model]);
    expect(fp32.stdout).toMatch(/^precision {3}fp32$/m);
    const json = JSON.parse((await siameseCli(['info', int8, '--json'])).stdout);
    expect(json.precision).toBe('int8');
    expect(json.quantization.comparison.pairs).toBe(1000);
  });

  it('compare and eval run the int8 model without a flag, with its own threshold', async () => {
    const a = join(FIXTURES, 'folder/circle/circle-1.png');
    const b = join(FIXTURES, 'folder/square/square-1.gif');
    const m = await loadModel(int8);
    const c = await siameseCli(['compare', int8, a, b, '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).threshold.probability).toBe(m.quantization!.record.threshold!.probability);
    const e = await siameseCli([
      'eval',
      int8,
      '--data',
      'mnist',
      '--split',
      join(run, 'split.json'),
      '--pairs',
      '200',
      '--episodes',
      '0',
      '--gallery',
      '0',
    ]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^device {6}onnxruntime cpu, int8 model/m);
  });

  it('exports the int8 cuts of an int8 folder without --quantize; the head stays fp32', async () => {
    const out = join(tmp.path, 'enc.onnx');
    const r = await siameseCli(['export', int8, '--cut', 'encoder', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('(encoder cut, int8:');
    expect(new Uint8Array(await readFile(out))).toEqual((await loadModel(int8)).quantization!.onnx.encoder);
    const head = await siameseCli(['export', int8, '--cut', 'head', '--out', join(tmp.path, 'head.onnx')]);
    expect(head.stdout).toContain('(head cut: ');
  });

  it('refuses bad requests in one line, exit 2, writing nothing', async () => {
    const few = join(tmp.path, 'few');
    for (const cls of ['a', 'b']) {
      await mkdir(join(few, cls), { recursive: true });
      for (const k of [1, 2])
        await writeFile(
          join(few, cls, `${k}.png`),
          await readFile(join(FIXTURES, 'folder/circle/circle-1.png')),
        );
    }
    const other = join(tmp.path, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'keep me');
    const q = ['--quantize', 'int8', '--calibrate', 'mnist'];
    for (const [args, message] of [
      [['--quantize', 'int8'], /--quantize int8 needs --calibrate DATA/],
      [['--calibrate', 'mnist'], /--calibrate needs --quantize int8/],
      [['--accept-drop'], /--accept-drop needs --quantize int8/],
      [['--quantize', 'int4', '--calibrate', 'mnist'], /--quantize 'int4' is not one of int8/],
      [[...q, '--cut', 'head'], /--cut head: the head stays fp32/],
      [[...q, '--no-fold'], /--no-fold with --quantize: int8 needs BatchNorm folded/],
      [
        [...q, '--calibration-method', 'kl'],
        /--calibration-method 'kl' is not one of minmax, percentile, entropy/,
      ],
      [[...q, '--calibration-images', '0'], /--calibration-images must be a positive integer/],
      [[...q, '--out', model], /is MODEL itself/],
      [[...q, '--out', other], /--out '.*other' is a folder with other files in it/],
      [
        ['--quantize', 'int8', '--calibrate', few, '--out', join(tmp.path, 'never')],
        /--calibrate .*few has 4 images; int8 needs at least 32 to calibrate on and as many again held out/,
      ],
    ] as const) {
      const r = await siameseCli(['export', model, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.errLines, args.join(' ')).toEqual([expect.stringMatching(message)]);
    }
    const again = await siameseCli(['export', int8, ...q, '--out', join(tmp.path, 'twice')]);
    expect(again.code).toBe(2);
    expect(again.errLines).toEqual([
      expect.stringMatching(/is already int8 .*quantize its fp32 source model instead/),
    ]);
    expect(await readdir(tmp.path)).not.toContain('never');
    expect(await readdir(tmp.path)).not.toContain('twice');
    expect(await readdir(other)).toEqual(['notes.txt']);
  });
});

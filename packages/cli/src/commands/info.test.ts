import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { siamese, summarize } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel, siameseCli, tempDir } from '../test/cli.js';

describe('siamese info (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'));
  });
  afterAll(() => tmp.remove());

  it('describes a model folder: architecture, parameters, FLOPs, preprocessing, threshold, metrics', async () => {
    const r = await siameseCli(['info', model]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`Siamese resnet10_w8, 1x28x28 images, combine absdiff, batch 1 (model ${model})`);
    expect(lines).toContain('  parameters  145,047');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}encoder {5}316\.688 K multiply-adds per image/));
    expect(lines).toContain('preprocessing grayscale 28x28, resize fill, mean [0.449], std [0.226]');
    expect(lines).toContain('threshold   0.5000, calibrated at the equal error rate');
    expect(lines).toContain('metrics     rocAuc 0.7500');

    const j = JSON.parse((await siameseCli(['info', model, '--json'])).stdout);
    expect(j).toMatchObject({
      model,
      arch: 'resnet10_w8',
      parameters: 145_047,
      preprocessing: { channels: 1, height: 28, width: 28, resize: 'fill' },
      threshold: { probability: 0.5, method: 'eer' },
      metrics: { rocAuc: 0.75 },
      encoderFlopsPerImage: 316_688,
    });
    expect(j.flops).toBeGreaterThan(2 * j.encoderFlopsPerImage);
  });

  it('refuses architecture flags with a model folder', async () => {
    const r = await siameseCli(['info', model, '--arch', 'resnet18']);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      'siamese info: --arch describes an architecture; a model folder has its own (drop --arch or MODEL)',
    ]);
  });

  it("takes the architecture from siamese.config.json's model section; flags win", async () => {
    const cwd = join(tmp.path, 'project');
    await mkdir(cwd, { recursive: true });
    const model = {
      arch: 'resnet10_w8',
      input: { channels: 3, height: 32, width: 48 },
      combine: 'concat',
      head: { hidden: [16] },
    } as const;
    await writeFile(join(cwd, 'siamese.config.json'), JSON.stringify({ model }));
    const fromFile = await siameseCli(['info'], { cwd });
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain('Siamese resnet10_w8, 3x32x48 images, combine concat, batch 1');
    const j = JSON.parse((await siameseCli(['info', '--json'], { cwd })).stdout);
    const expected = summarize(
      siamese({ encoder: model.arch, input: model.input, combine: model.combine, head: model.head }),
    );
    expect(j.parameters).toBe(expected.parameters);

    const flags = await siameseCli(['info', '--arch', 'resnet18', '--size', '64'], { cwd });
    expect(flags.code).toBe(0);
    expect(flags.stdout).toContain('Siamese resnet18, 3x64x64 images, combine concat, batch 1');
  });
});

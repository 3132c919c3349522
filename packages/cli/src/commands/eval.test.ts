import { join } from 'node:path';
import { mnist, splitDataset, writeManifest } from '@siamese/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copiesFolder, FIXTURES, makeModel, siameseCli, tempDir } from '../test/cli.js';

const SMALL = ['--pairs', '200', '--episodes', '5', '--gallery', '40', '--device', 'cpu'];

describe('siamese eval (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;
  let copies: string;
  let split: string;

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'), { head: 'distance' });
    copies = await copiesFolder(join(tmp.path, 'copies'));
    split = join(tmp.path, 'split.json');
    await writeManifest(split, splitDataset(await mnist(), { by: 'class', seed: 1 }).manifest);
  });
  afterAll(() => tmp.remove());

  it('scores every metric perfectly when same-class images are identical', async () => {
    const r = await siameseCli(['eval', model, '--data', copies, ...SMALL]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 10)).toEqual([
      `model       ${model}`,
      `data        ${copies}: 15 images, 5 classes`,
      expect.stringMatching(/^cost {8}15 images embedded once, [\d,]+ pairs scored by the head$/),
      'pairs       200 sampled pairs (100 same, 100 different)',
      '  ROC AUC                 1.0000',
      expect.stringMatching(/^ {2}EER {21}0\.0000 at threshold 0\.\d{4}$/),
      '  accuracy at EER         1.0000',
      expect.stringMatching(/^ {2}accuracy at model's {5}\d\.\d{4} \(threshold 0\.5000, eer\)$/),
      expect.stringMatching(/^ {2}threshold at FAR 0\.001 {2}0\.\d{4} \(FAR 0\.0000, TAR 1\.0000\)$/),
      '  note: FAR 0.001 is finer than 1/100 different pairs: raise --pairs for a reliable threshold',
    ]);
    expect(lines).toContain('one-shot    5-way across-classes, 5 episodes, 25 trials: accuracy 1.0000');
    expect(lines).toContain('  note: 5-way: the data has 5 classes with two or more images');
    expect(lines).toContain('retrieval   gallery of 15 images, 5 classes: precision@1 1.0000, MAP@R 1.0000');
    expect(lines.at(-1)).toMatch(/^device {6}onnxruntime cpu/);
  });

  it('evaluates one part of a split of MNIST, as JSON', async () => {
    const r = await siameseCli([
      'eval',
      model,
      '--data',
      'mnist',
      '--split',
      split,
      '--part',
      'test',
      ...SMALL,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.data).toBe(`mnist#test: 1,958 images, 2 classes (part 'test' of split ${split}, by class)`);
    expect(j.pairs).toMatchObject({ source: 'sampled', count: 200, same: 100, different: 100 });
    expect(j.pairs.rocAuc).toBeGreaterThanOrEqual(0);
    expect(j.oneShot).toMatchObject({ way: 2, episodes: 5, trials: 10, protocol: 'across-classes' });
    expect(j.retrieval).toMatchObject({ gallery: 40, classes: 2 });
    expect(j.embedded).toBeLessThanOrEqual(400 + 10 + 40);
  });

  it('runs the within-alphabet protocol on an Omniglot tree, and listed pairs from a CSV', async () => {
    const omniglot = await siameseCli([
      'eval',
      model,
      '--data',
      join(FIXTURES, 'omniglot'),
      ...SMALL,
      '--json',
    ]);
    expect(omniglot.code).toBe(0);
    const o = JSON.parse(omniglot.stdout).oneShot;
    expect(o).toMatchObject({ way: 20, episodes: 5, trials: 100, protocol: 'within-alphabet' });
    expect(o.notes).toEqual(['alphabets left out (fewer than 20 characters drawn by two drawers): Gamma']);

    const csv = await siameseCli(['eval', model, '--data', join(FIXTURES, 'pairs/pairs.csv'), ...SMALL]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toContain('pairs       5 of 5 listed pairs (3 same, 2 different)');
  });

  it('reads data and device from siamese.config.json; flags win', async () => {
    const cwd = join(tmp.path, 'project');
    await copiesFolder(join(cwd, 'images'), 2);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      join(cwd, 'siamese.config.json'),
      JSON.stringify({ data: { source: 'images' }, infer: { device: 'cuda' } }),
    );
    const env = { CUDA_VISIBLE_DEVICES: '' };
    const fromFile = await siameseCli(['eval', model, '--pairs', '20', '--episodes', '1', '--gallery', '0'], {
      cwd,
      env,
    });
    expect(fromFile.code).toBe(2); // the file asks for CUDA, which is not there
    expect(fromFile.errLines).toEqual([
      expect.stringMatching(/^siamese eval: device 'cuda' is not available/),
    ]);
    const flag = await siameseCli(
      ['eval', model, '--pairs', '20', '--episodes', '1', '--gallery', '0', '--device', 'cpu'],
      { cwd, env },
    );
    expect(flag.code).toBe(0);
    expect(flag.stdout).toContain(`data        ${join(cwd, 'images')}: 10 images, 5 classes`);
    expect(flag.stdout).toContain('retrieval   skipped: --gallery 0');
  });

  it('refuses bad data and flags in one line', async () => {
    for (const [args, message] of [
      [
        ['--data', copies, '--way', '30'],
        /--way 30: '.*' has 5 classes with two or more images; use --way 5 or fewer/,
      ],
      [['--data', 'mnist:test'], /data 'mnist:test': name a held-out part with --split FILE --part test/],
      [['--data', join(tmp.path, 'nope')], /data '.*nope': no such file or folder/],
      [['--data', 'mnist', '--part', 'val'], /--part needs --split FILE/],
      [['--data', 'mnist', '--far', '2'], /--far must be a number in \[0, 1\], got '2'/],
      [
        ['--data', 'mnist', '--split', join(tmp.path, 'missing.json')],
        /dataset: .*missing\.json: split manifest does not exist/,
      ],
      [['--data', copies, '--split', split], /(train|val|test) item 'mnist\/\d\/\d+' is not in dataset/],
      [[], /needs --data SOURCE/],
    ] as const) {
      const r = await siameseCli(['eval', model, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.errLines).toEqual([expect.stringMatching(message)]);
    }
  });
});

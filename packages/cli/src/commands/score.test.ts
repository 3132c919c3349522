import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, makeModel, siameseCli, tempDir } from '../test/cli.js';

const SAME = 1 / (1 + Math.exp(-2));

describe('siamese score (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;
  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'), { head: 'distance' });
  });
  afterAll(() => tmp.remove());

  it('writes a probability and a decision for every pair of the CSV, in file order', async () => {
    const out = join(tmp.path, 'out/scores.csv');
    const r = await siameseCli([
      'score',
      model,
      join(FIXTURES, 'pairs/pairs.csv'),
      '--out',
      out,
      '--device',
      'cpu',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*scores\.csv \(5 pairs, 6 images embedded once each\)$/m);
    const rows = (await readFile(out, 'utf8')).trim().split('\n');
    expect(rows[0]).toBe('a,b,label,probability,same');
    expect(rows.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      'people/ann/1.png,people/ann/2.png,1',
      'people/bob/1.png,people/bob/2.png,1',
      'people/cat/1.png,people/cat/2.png,1',
      'people/ann/1.png,people/bob/2.png,0',
      'people/bob/1.png,people/cat/1.png,0',
    ]);
    for (const l of rows.slice(1)) {
      const [, , , p, same] = l.split(',');
      expect(Number(p)).toBeGreaterThan(0);
      expect(Number(p)).toBeLessThanOrEqual(SAME + 1e-6);
      expect(same).toBe(Number(p) >= 0.5 ? '1' : '0');
    }
  });

  it('names what is missing in one line, exit 2', async () => {
    let r = await siameseCli(['score', model, join(FIXTURES, 'pairs/pairs.csv')]);
    expect([r.code, r.errLines]).toEqual([2, ['siamese score: needs --out FILE (the scores CSV to write)']]);
    r = await siameseCli(['score', model, join(tmp.path, 'none.csv'), '--out', join(tmp.path, 'x.csv')]);
    expect([r.code, r.errLines]).toEqual([
      2,
      [`siamese score: PAIRS '${join(tmp.path, 'none.csv')}': no such file`],
    ]);
  });
});

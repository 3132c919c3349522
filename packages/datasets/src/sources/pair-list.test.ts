import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../errors.js';
import { pairList, parseCsvLine } from './pair-list.js';

const PAIRS = fileURLToPath(new URL('../__fixtures__/pairs/', import.meta.url));

describe('pairList', () => {
  it('reads a,b,label rows relative to the CSV, with a header, quotes, blank lines and word labels', async () => {
    const ds = await pairList(`${PAIRS}pairs.csv`);
    expect(ds.items.map((i) => i.id)).toEqual([
      'people/ann/1.png',
      'people/ann/2.png',
      'people/bob/1.png',
      'people/bob/2.png',
      'people/cat/1.png',
      'people/cat/2.png',
    ]);
    expect(ds.items[0]?.path).toBe(`${PAIRS}people/ann/1.png`);
    expect(ds.classes).toEqual(['people/ann', 'people/bob', 'people/cat']);
    expect(ds.pairs).toEqual([
      { a: 0, b: 1, same: 1 },
      { a: 2, b: 3, same: 1 },
      { a: 4, b: 5, same: 1 },
      { a: 0, b: 3, same: 0 },
      { a: 2, b: 4, same: 0 },
    ]);
    expect(ds.warnings).toEqual([]);
  });

  it('parses CSV fields', () => {
    expect(parseCsvLine('a, b ,1')).toEqual(['a', 'b', '1']);
    expect(parseCsvLine('"x,y.png","say ""hi"".png",0')).toEqual(['x,y.png', 'say "hi".png', '0']);
    expect(parseCsvLine('"open,1')).toBeUndefined();
  });

  describe('bad input: one line each, naming the file and row', () => {
    const failure = async (file: string) => {
      const e = await pairList(file).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(DatasetError);
      expect((e as Error).message).not.toContain('\n');
      return e as DatasetError;
    };

    it('a row pointing nowhere', async () => {
      const e = await failure(`${PAIRS}missing.csv`);
      expect(e.message).toBe(
        `dataset: ${PAIRS}missing.csv:2: 'people/dan/1.png' does not exist (looked for ${PAIRS}people/dan/1.png)`,
      );
      expect(e.code).toBe('not-found');
    });

    it('with skipInvalid, the row is dropped with a warning', async () => {
      const ds = await pairList(`${PAIRS}missing.csv`, { skipInvalid: true });
      expect(ds.pairs).toEqual([{ a: 0, b: 1, same: 1 }]);
      expect(ds.warnings.map((w) => w.message)).toEqual([
        `dataset: ${PAIRS}missing.csv:2: 'people/dan/1.png' does not exist (looked for ${PAIRS}people/dan/1.png) (row skipped)`,
      ]);
    });

    it('a label that is not one', async () => {
      expect((await failure(`${PAIRS}bad-label.csv`)).message).toBe(
        `dataset: ${PAIRS}bad-label.csv:2: label "maybe" is not 1/0 (or same/different, true/false, yes/no)`,
      );
    });

    it('a row with two fields', async () => {
      expect((await failure(`${PAIRS}short-row.csv`)).message).toBe(
        `dataset: ${PAIRS}short-row.csv:2: expected 3 fields 'a,b,label', got 2: "people/ann/1.png,people/ann/2.png"`,
      );
    });

    it('a missing CSV, and a folder given as the CSV', async () => {
      expect((await failure(`${PAIRS}nope.csv`)).message).toBe(
        `dataset: ${PAIRS}nope.csv: pairs file does not exist`,
      );
      expect((await failure(`${PAIRS}people`)).message).toBe(
        `dataset: ${PAIRS}people: pairs file is a folder, not a CSV file`,
      );
    });
  });
});

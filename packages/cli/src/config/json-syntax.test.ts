import { describe, expect, it } from 'vitest';
import { jsonSyntaxError, lineColumn, syntaxErrorOffset } from './json-syntax.js';

function parseError(text: string): Error {
  try {
    JSON.parse(text);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`parses: ${text}`);
}

const at = (text: string) => jsonSyntaxError(text, parseError(text));

describe('JSON syntax errors', () => {
  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd\n', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd\n', 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab\ncd\n', 6)).toEqual({ line: 3, column: 1 });
  });

  it('places errors JSON.parse gives a position for', () => {
    expect(at('{\n  "train": {\n    "lr": 0.1\n    "epochs": 3\n  }\n}')).toEqual({
      line: 4,
      column: 5,
      message: "expected ',' or '}' after property value",
    });
    expect(at('{\n  "a": 1,\n}')).toEqual({
      line: 3,
      column: 1,
      message: 'expected double-quoted property name',
    });
    expect(at('{}\nx')).toEqual({
      line: 2,
      column: 1,
      message: 'unexpected non-whitespace character after JSON',
    });
  });

  it('places errors JSON.parse gives none for, by scanning the text', () => {
    expect(at('{\n  "hidden": [64,\n    32,\n  ]\n}')).toEqual({
      line: 4,
      column: 3,
      message: "unexpected ']'",
    });
    expect(at('{ "a": tru}')).toEqual({ line: 1, column: 11, message: "unexpected '}'" });
    expect(at('{ "train": ')).toEqual({ line: 1, column: 12, message: 'unexpected end of file' });
    expect(at('')).toEqual({ line: 1, column: 1, message: 'unexpected end of file' });
  });

  it('scans what JSON.parse accepts without finding an error', () => {
    for (const ok of ['{}', ' [1, -2.5e3, "a\\"b", true, false, null, {"x": []}] ', '"s"', '0']) {
      expect(() => JSON.parse(ok)).not.toThrow();
      expect(syntaxErrorOffset(ok)).toBeUndefined();
    }
  });

  it('keeps a message without a position and nothing to place it by', () => {
    expect(jsonSyntaxError('{}', new Error('Something else went wrong'))).toEqual({
      message: 'something else went wrong',
    });
  });
});

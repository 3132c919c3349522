/**
 * A JSON syntax error as an editor wants it: line and column, and what is wrong without V8's
 * wording around it. Node 20's JSON.parse says "at position N" for most errors (newer versions
 * add "(line L column C)"), but not for an unexpected token, where it quotes the text around it
 * instead (newlines included); then the position is found by scanning the text.
 */

export interface JsonSyntaxError {
  /** 1-based, as editors count. Absent when the error could not be placed. */
  readonly line?: number;
  readonly column?: number;
  /** `expected ',' or '}' after property value`, `unexpected ']'`, `unexpected end of file`. */
  readonly message: string;
}

/** Line and column (1-based) of a UTF-16 offset into `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/** What JSON.parse's message says is wrong, without the position and the quoted text. */
function what(message: string): string {
  if (/^Unexpected end of JSON input/.test(message)) return 'unexpected end of file';
  const token = /^Unexpected token '(.+?)', /s.exec(message);
  if (token) return `unexpected '${token[1]}'`;
  const rest = message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ at position \d+.*$/s, '')
    .replace(/\s+/g, ' ')
    .trim();
  return rest.charAt(0).toLowerCase() + rest.slice(1);
}

/** A syntax error found at `offset`. */
class At {
  constructor(readonly offset: number) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Offset of the first syntax error in `text` (its length for a text that ends too soon), or undefined. */
export function syntaxErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new At(i);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const expect = (c: string) => (text[i] === c ? i++ : fail());
  const string = () => {
    expect('"');
    while (i < text.length && text[i] !== '"') {
      if (text[i]! < ' ') fail();
      i += text[i] === '\\' ? 2 : 1;
    }
    expect('"');
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          space();
          string();
          space();
          expect(':');
        }
        value();
        space();
        if (text[i] !== ',') break;
        i++;
      }
      expect(close);
      return;
    }
    if (c === '"') {
      string();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (c === word[0]) {
        for (const ch of word) expect(ch);
        return;
      }
    }
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text) || NUMBER.lastIndex === i) fail();
    i = NUMBER.lastIndex;
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return undefined;
  } catch (e) {
    if (e instanceof At) return e.offset;
    throw e;
  }
}

/** Where and what JSON.parse's `error` on `text` is. */
export function jsonSyntaxError(text: string, error: Error): JsonSyntaxError {
  const message = what(error.message);
  const stated = / at position (\d+)/.exec(error.message);
  const offset = stated ? Number(stated[1]) : syntaxErrorOffset(text);
  return offset === undefined ? { message } : { ...lineColumn(text, offset), message };
}

/**
 * Line wrapping for the generated Python, black's way: a line over the limit is split inside its
 * last bracket pair that closes at the end of the line, arguments one per line with a trailing comma.
 */
export const LINE_LENGTH = 100;

/**
 * The code characters of `text` (strings skipped), each with the bracket depth before it:
 * brackets are yielded too, an opening one at its outer depth, a closing one at its inner depth.
 */
function* code(text: string): Generator<{ i: number; c: string; depth: number }> {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else {
      yield { i, c, depth };
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
    }
  }
}

/** `text` cut at `cuts` (indices of the cut characters, kept at the start of the next part unless `drop`). */
function cutAt(text: string, cuts: readonly number[], drop: number): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const at of cuts) {
    parts.push(text.slice(start, at).trim());
    start = at + drop;
  }
  const last = text.slice(start).trim();
  if (last) parts.push(last);
  return parts;
}

/** Splits `text` at top-level commas (outside brackets and strings). */
function topLevelArgs(text: string): string[] {
  const commas = [...code(text)].filter((x) => x.c === ',' && x.depth === 0).map((x) => x.i);
  return cutAt(text, commas, 1);
}

/** The index of the bracket opening the pair that closes at the end of `line`, or -1. */
function openingOfLast(line: string): number {
  const close = line.length - 1;
  if (!')]}'.includes(line[close]!)) return -1;
  const opens: number[] = [];
  for (const { i, c, depth } of code(line)) {
    if ('([{'.includes(c)) opens[depth] = i;
    else if (i === close && ')]}'.includes(c) && depth >= 1) return opens[depth - 1]!;
  }
  return -1;
}

/** Binary operators by black's priority, lowest binding first: a split happens at the first kind present. */
const OPERATORS = [
  [' + ', ' - '],
  [' * ', ' / ', ' // ', ' % ', ' @ '],
];

/**
 * `a * b / c` as `a`, `* b`, `/ c` at the loosest-binding operators outside brackets and strings
 * (black's delimiter split), or undefined when `text` has none.
 */
function splitAtOperators(text: string): string[] | undefined {
  const top = [...code(text)].filter((x) => x.depth === 0).map((x) => x.i);
  for (const ops of OPERATORS) {
    const cuts = top.filter((i) => ops.some((op) => text.startsWith(op, i)));
    if (cuts.length > 0) return cutAt(text, cuts, 0);
  }
  return undefined;
}

/** `line` (at `indent` spaces) as one or more lines of at most LINE_LENGTH characters where possible. */
export function wrap(line: string, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (indent + line.length <= LINE_LENGTH) return [pad + line];
  const open = openingOfLast(line);
  if (open <= 0) return [pad + line];
  const head = line.slice(0, open + 1);
  const body = line.slice(open + 1, -1);
  const tail = line.slice(-1);
  const inner = ' '.repeat(indent + 4);
  if (inner.length + body.length <= LINE_LENGTH) return [pad + head, inner + body, pad + tail];
  const args = topLevelArgs(body);
  // One argument keeps no trailing comma: `(a * b,)` would be a tuple. Too long, it is split at
  // its operators.
  if (args.length === 1) {
    const parts = splitAtOperators(args[0]!) ?? [args[0]!];
    return [pad + head, ...parts.flatMap((p) => wrap(p, indent + 4)), pad + tail];
  }
  return [pad + head, ...args.flatMap((a) => wrap(`${a},`, indent + 4)), pad + tail];
}

/** Lines at `indent`, each wrapped. */
export function block(lines: readonly string[], indent: number): string[] {
  return lines.flatMap((l) => (l === '' ? [''] : wrap(l, indent)));
}

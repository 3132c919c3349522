/** "Did you mean ...?" for a mistyped command or flag: the one close candidate, or none. */

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate `word` most likely meant: one it starts or ends (`--epoch` for `--epochs`, `--dat`
 * for `--data`), else one within a typo or two (one for short words, where two edits reach
 * anything). Nothing when two candidates are equally close: a wrong guess is worse than none.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  if (w.length < 2) return undefined;
  const prefixed = candidates.filter((c) => c.startsWith(w) || w.startsWith(c));
  if (prefixed.length === 1) return prefixed[0];
  const limit = w.length <= 4 ? 1 : 2;
  const scored = candidates
    .map((c) => ({ c, d: editDistance(w, c) }))
    .filter((s) => s.d <= limit)
    .sort((x, y) => x.d - y.d);
  if (scored.length === 0 || (scored.length > 1 && scored[1]!.d === scored[0]!.d)) return undefined;
  return scored[0]!.c;
}

/** ` (did you mean X?)`, or nothing. */
export function didYouMean(word: string, candidates: readonly string[], show = (c: string) => c): string {
  const near = closest(word, candidates);
  return near === undefined ? '' : ` (did you mean ${show(near)}?)`;
}

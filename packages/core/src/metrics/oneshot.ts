/** N-way one-shot accuracy and retrieval metrics (precision@1, MAP@R). */

/**
 * Each trial scores one query against N candidates, exactly one of which shows the same class;
 * the trial is right when that candidate scores highest (ties count as wrong).
 */
export function nWayAccuracy(
  trials: readonly { readonly scores: ArrayLike<number>; readonly correct: number }[],
): number {
  if (trials.length === 0) throw new Error('metrics: no one-shot trials');
  let right = 0;
  for (const t of trials) {
    const target = t.scores[t.correct];
    if (target === undefined)
      throw new Error(`metrics: correct index ${t.correct} is outside ${t.scores.length} candidates`);
    let wins = true;
    for (let i = 0; i < t.scores.length; i++) if (i !== t.correct && t.scores[i]! >= target) wins = false;
    if (wins) right++;
  }
  return right / trials.length;
}

/**
 * Retrieval over a gallery with each item in turn as the query (leave-one-out), given a
 * similarity function: precision@1 and MAP@R (Musgrave et al. 2020: R = same-class items in
 * the gallery besides the query; average precision over the top R).
 */
export function retrievalMetrics(
  labels: ArrayLike<number>,
  similarity: (i: number, j: number) => number,
): { precisionAt1: number; mapAtR: number } {
  const n = labels.length;
  let p1 = 0;
  let mapSum = 0;
  let queries = 0;
  for (let q = 0; q < n; q++) {
    const others: { j: number; s: number }[] = [];
    for (let j = 0; j < n; j++) if (j !== q) others.push({ j, s: similarity(q, j) });
    const r = others.filter((o) => labels[o.j] === labels[q]).length;
    if (r === 0) continue; // A class seen once cannot be retrieved.
    queries++;
    others.sort((a, b) => b.s - a.s);
    if (labels[others[0]!.j] === labels[q]) p1++;
    let hits = 0;
    let ap = 0;
    for (let k = 0; k < r; k++) {
      if (labels[others[k]!.j] === labels[q]) {
        hits++;
        ap += hits / (k + 1);
      }
    }
    mapSum += ap / r;
  }
  if (queries === 0) throw new Error('metrics: no class has two or more items, so nothing can be retrieved');
  return { precisionAt1: p1 / queries, mapAtR: mapSum / queries };
}

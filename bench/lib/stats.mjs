// Small timing helpers shared by the benchmarks: warm-up, interleaved rounds, medians.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Times each candidate `rounds` times after `warmup` untimed calls, interleaving candidates in
 * every round so machine noise hits them alike. Returns median seconds per call, by name.
 */
export async function timeInterleaved(candidates, { warmup = 3, rounds = 15 } = {}) {
  for (const c of candidates) for (let i = 0; i < warmup; i++) await c.run();
  const times = Object.fromEntries(candidates.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of candidates) {
      const t0 = performance.now();
      await c.run();
      times[c.name].push((performance.now() - t0) / 1000);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ')).join('\n');
}

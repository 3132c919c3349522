import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, Item } from './dataset.js';
import { EpisodeSampler, episodeCorrect, episodePairs, episodes, withinGroupEpisodes } from './episodes.js';
import { imageFolder } from './sources/image-folder.js';

const FIX = fileURLToPath(new URL('./__fixtures__/', import.meta.url));

function synthetic(classes: number, per: number): Dataset {
  const items: Item[] = [];
  for (let c = 0; c < classes; c++)
    for (let k = 0; k < per; k++) items.push({ id: `c${c}/${k}`, label: c, className: `c${c}` });
  return {
    name: 'synthetic',
    classes: Array.from({ length: classes }, (_, c) => `c${c}`),
    items,
    warnings: [],
  };
}

describe('N-way k-shot episodes', () => {
  it('has way x shot support and way x queries queries from way distinct classes, no image twice', () => {
    const ds = synthetic(12, 6);
    const [e] = episodes(ds, 1, { way: 5, shot: 2, queries: 3, seed: 1 });
    if (!e) throw new Error('no episode');
    expect(e.classes).toHaveLength(5);
    expect(new Set(e.classes).size).toBe(5);
    expect(e.support).toHaveLength(10);
    expect(e.query).toHaveLength(15);
    expect(e.supportLabels).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect(new Set([...e.support, ...e.query]).size).toBe(25);
    expect(e.support.map((i) => ds.items[i]?.label)).toEqual(e.supportLabels.map((l) => e.classes[l]));
    expect(e.query.map((i) => ds.items[i]?.label)).toEqual(e.queryLabels.map((l) => e.classes[l]));
  });

  it('same seed, same episodes; different seed, different', () => {
    const ds = synthetic(30, 3);
    const o = { way: 5, shot: 1, seed: 7 };
    expect(episodes(ds, 10, o)).toEqual(episodes(ds, 10, o));
    expect(episodes(ds, 10, o)).not.toEqual(episodes(ds, 10, { ...o, seed: 8 }));
  });

  it('says when there are too few classes', () => {
    expect(() => new EpisodeSampler(synthetic(4, 2), { way: 5, shot: 1, seed: 1 })).toThrow(
      "dataset: episodes: need 5 classes with 2 or more images (shot 1 + 1 queries); 'synthetic' has 4",
    );
    expect(
      () => new EpisodeSampler(synthetic(8, 2), { way: 5, shot: 1, seed: 1, withinGroup: true }),
    ).toThrow(
      "within-group episodes need a group with 5 classes with 2 or more images (shot 1 + 1 queries); 'synthetic' has none",
    );
  });

  it('pairs every query with every support, and scores by the best class', () => {
    const ds = synthetic(3, 2);
    const [e] = episodes(ds, 1, { way: 3, shot: 1, seed: 2 });
    if (!e) throw new Error('no episode');
    const pairs = episodePairs(e);
    expect(pairs).toHaveLength(9);
    expect(pairs.filter((p) => p.same)).toHaveLength(3);
    const perfect = pairs.map((p) => (p.same ? 0.9 : 0.1));
    expect(episodeCorrect(e, perfect)).toBe(3);
    // Always picking support 0 (episode class 0) is right for one query of three.
    expect(episodeCorrect(e, [0.9, 0.1, 0.1, 0.9, 0.1, 0.1, 0.9, 0.1, 0.1])).toBe(1);
  });
});

describe('the 20-way within-alphabet protocol (Lake / Koch)', () => {
  let omniglot: Dataset;
  beforeAll(async () => {
    omniglot = await imageFolder(`${FIX}omniglot`);
  });

  it('two drawers per run: 20 queries from one against the 20 of the other, all in one alphabet', () => {
    const { episodes: runs, skippedGroups } = withinGroupEpisodes(omniglot, { seed: 1 });
    expect(skippedGroups).toEqual(['Gamma']); // 3 characters: too few for 20-way
    expect(runs).toHaveLength(4); // Alpha and Beta, 2 runs each
    expect(runs.map((r) => r.group)).toEqual(['Alpha', 'Alpha', 'Beta', 'Beta']);
    for (const run of runs) {
      expect([run.way, run.shot, run.support.length, run.query.length]).toEqual([20, 1, 20, 20]);
      const [qd, sd] = run.drawers ?? [];
      expect(qd).not.toBe(sd);
      const chars = new Set<string>();
      run.query.forEach((qi, k) => {
        const q = omniglot.items[qi] as Item;
        const s = omniglot.items[run.support[k] as number] as Item;
        expect([q.group, s.group]).toEqual([run.group, run.group]);
        expect([q.drawer, s.drawer]).toEqual([qd, sd]);
        expect(q.label).toBe(s.label); // query k's character is support k's
        expect(q.label).toBe(run.classes[k]);
        chars.add(q.className);
      });
      expect(chars.size).toBe(20);
      const pairs = episodePairs(run);
      expect(pairs).toHaveLength(400);
      expect(pairs.filter((p) => p.same)).toHaveLength(20);
    }
  });

  it('is the same for the same seed and differs for another', () => {
    const a = withinGroupEpisodes(omniglot, { seed: 1 });
    expect(withinGroupEpisodes(omniglot, { seed: 1 })).toEqual(a);
    expect(withinGroupEpisodes(omniglot, { seed: 2 }).episodes).not.toEqual(a.episodes);
  });

  it('without drawers, uses two distinct images per character', async () => {
    const noDrawers = await imageFolder(`${FIX}omniglot`, { drawerPattern: null });
    const { episodes: runs } = withinGroupEpisodes(noDrawers, { seed: 3, way: 10, runsPerGroup: 1 });
    expect(runs.map((r) => r.group)).toEqual(['Alpha', 'Beta']);
    for (const r of runs) {
      expect(r.drawers).toBeUndefined();
      r.query.forEach((q, k) => {
        expect(q).not.toBe(r.support[k]);
        expect(noDrawers.items[q]?.label).toBe(noDrawers.items[r.support[k] as number]?.label);
      });
    }
  });

  it('needs groups, and a group big enough', () => {
    expect(() => withinGroupEpisodes(synthetic(30, 2), { seed: 1 })).toThrow(
      "dataset: episodes: within-group runs need grouped items (alphabet/character folders); 'synthetic' has no groups",
    );
    expect(() => withinGroupEpisodes(omniglot, { seed: 1, way: 21 })).toThrow(
      'no group of', // every alphabet has at most 20 characters
    );
  });
});

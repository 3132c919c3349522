/** What a score means: the one place backends and commands take sigmoid, scores and calibration from. */
import { describe, expect, it } from 'vitest';
import { siamese, siameseTraining } from '../nn/siamese.js';
import { calibrate, calibrateThreshold, fitLogistic, headInput, withDistanceHead } from './calibrate.js';
import { evaluatePairs } from './evaluate.js';
import { logit, sigmoid } from './probability.js';
import { pairScores, scoreKind } from './score-kind.js';

const input = { channels: 1, height: 8, width: 8 };

describe('sigmoid and logit', () => {
  it('are inverses, with sigmoid(0) = 0.5', () => {
    expect(sigmoid(0)).toBe(0.5);
    for (const p of [0.01, 0.3, 0.5, 0.9]) expect(sigmoid(logit(p))).toBeCloseTo(p, 12);
    expect(sigmoid(-800)).toBe(0);
  });
});

describe('scoreKind and pairScores', () => {
  it('scores BCE graphs by the logit, contrastive by distance and triplet by embeddings', () => {
    const cfg = { encoder: 'resnet10_w8', input, combine: 'euclidean' as const };
    expect(scoreKind(siameseTraining(cfg, { kind: 'bce' }))).toEqual({ kind: 'logit', output: 'logit' });
    expect(scoreKind(siameseTraining(cfg, { kind: 'contrastive', margin: 1 })).kind).toBe('distance');
    expect(scoreKind(siameseTraining(cfg, { kind: 'triplet', margin: 1 })).kind).toBe('embedding');
  });

  it('turns raw outputs into scores where higher means more likely the same', () => {
    expect([...pairScores({ kind: 'logit', output: 'logit' }, { values: [0, 2] }, 2)]).toEqual([
      0.5,
      Math.fround(sigmoid(2)),
    ]);
    expect([...pairScores({ kind: 'distance', output: 'distance' }, { values: [0.5, 2] }, 2)]).toEqual([
      -0.5, -2,
    ]);
    const euclid = { kind: 'embedding', output: 'embeddingA', input: 'anchor', metric: 'euclidean' } as const;
    const s = pairScores(euclid, { a: [0, 0, 1, 1], b: [3, 4, 1, 1] }, 2);
    expect([...s].map((v) => v + 0)).toEqual([-5, 0]);
    const cos = pairScores(
      { ...euclid, input: 'images', metric: 'cosine' },
      { a: [1, 0, 2, 2], b: [0, 3, 1, 1] },
      2,
    );
    expect(cos[0]).toBe(0);
    expect(cos[1]).toBeCloseTo(1, 6);
    expect(() => pairScores(euclid, { a: [1] }, 1)).toThrow(/both sides/);
  });
});

describe('calibration', () => {
  it('fits the logistic scale and bias of a distance head', () => {
    // Labels drawn from p = sigmoid(-3 d + 2) on a grid of distances, in expectation (weights as counts).
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i <= 200; i++) {
      const d = i / 50;
      const same = Math.round(sigmoid(-3 * d + 2) * 100);
      for (let k = 0; k < 100; k++) {
        x.push(d);
        y.push(k < same ? 1 : 0);
      }
    }
    const { w, b } = fitLogistic(x, y);
    expect(w).toBeCloseTo(-3, 1);
    expect(b).toBeCloseTo(2, 1);
  });

  it('stays finite on separable data', () => {
    const { w, b } = fitLogistic([0.1, 0.2, 0.9, 1.0], [1, 1, 0, 0]);
    expect(Number.isFinite(w) && Number.isFinite(b)).toBe(true);
    expect(w).toBeLessThan(0);
  });

  it('puts the threshold at the equal error rate, or at a target false-accept rate', () => {
    const p = [0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.05];
    const l = [1, 1, 1, 1, 0, 0, 0, 0];
    const eer = calibrateThreshold(p, l);
    expect(eer.method).toBe('eer');
    expect(eer.probability).toBeGreaterThan(0.3);
    expect(eer.probability).toBeLessThanOrEqual(0.7);
    expect(calibrateThreshold(p, l, 0)).toEqual({ probability: 0.7, method: 'far', targetFar: 0 });
  });

  it('accepts nothing when even the top score breaks the false-accept target, also at a probability of exactly 1', () => {
    const t = calibrateThreshold([1, 1, 0.9, 0.2], [0, 1, 1, 0], 0.01);
    expect(t.probability).toBeGreaterThan(1);
    expect(JSON.parse(JSON.stringify(t)).probability).toBeGreaterThan(1);
  });

  it('leaves logit scores as probabilities, and fits a head to distance scores', () => {
    const labels = [1, 1, 0, 0, 1, 0];
    const asIs = calibrate(
      { kind: 'logit', output: 'logit' },
      { scores: [0.9, 0.8, 0.2, 0.1, 0.7, 0.4], labels },
    );
    expect(asIs.head).toBeUndefined();
    expect([...asIs.probabilities([0.25])]).toEqual([0.25]);
    // Scores are -distance: near pairs (score close to 0) are the same.
    const fitted = calibrate(
      { kind: 'distance', output: 'distance' },
      { scores: [-0.1, -0.2, -2, -3, -0.4, -1.5], labels },
    );
    expect(fitted.head!.w).toBeLessThan(0);
    const [near, far] = fitted.probabilities([-0.1, -3]);
    expect(near!).toBeGreaterThan(0.5);
    expect(far!).toBeLessThan(0.5);
    expect(fitted.threshold.probability).toBeGreaterThan(0);
  });

  it('fits a cosine-scored model’s head on the similarity itself, rising with it', () => {
    const kind = { kind: 'embedding', output: 'embeddingA', input: 'images', metric: 'cosine' } as const;
    const fitted = calibrate(kind, { scores: [0.9, 0.8, 0.1, -0.2, 0.7, 0.3], labels: [1, 1, 0, 0, 1, 0] });
    expect(fitted.head!.w).toBeGreaterThan(0);
    expect(headInput(kind, 0.4)).toBe(0.4);
    expect(headInput({ kind: 'distance', output: 'distance' }, -0.4)).toBe(0.4);
    const [high, low] = fitted.probabilities([0.9, -0.2]);
    expect(high!).toBeGreaterThan(0.5);
    expect(low!).toBeLessThan(0.5);
  });

  it('writes the fitted head into a Linear(1, 1) head and refuses graphs without one', () => {
    const graph = siamese({ encoder: 'resnet10_w8', input, combine: 'euclidean' });
    const w = withDistanceHead(graph, new Map(), { w: -2, b: 1 });
    expect([...(w.get('head.0.weight')!.data as Float32Array)]).toEqual([-2]);
    expect([...(w.get('head.0.bias')!.data as Float32Array)]).toEqual([1]);
    const mlp = siamese({ encoder: 'resnet10_w8', input, combine: 'absdiff' });
    expect(() => withDistanceHead(mlp, new Map(), { w: -2, b: 1 })).toThrow(/no Linear\(1, 1\) head/);
  });
});

describe('evaluatePairs', () => {
  const t = (data: number[], shape: number[]) => ({
    dtype: 'float32' as const,
    shape,
    data: Float32Array.from(data),
  });
  it('asks for the kind’s output and the loss when the batch has labels', async () => {
    const asked: string[][] = [];
    const r = await evaluatePairs(
      { kind: 'logit', output: 'logit' },
      { inputs: { x1: t([0], [1, 1]), x2: t([0], [1, 1]), labels: t([1], [1, 1]) }, size: 1 },
      {
        outputs: async (_b, names) => {
          asked.push([...names]);
          return { logit: [0], loss: [0.69] };
        },
        embed: () => Promise.reject(new Error('not used')),
      },
    );
    expect(asked).toEqual([['logit', 'loss']]);
    expect(r).toEqual({ scores: Float32Array.of(0.5), loss: 0.69 });
  });
  it('embeds each side through the anchor branch for triplet graphs', async () => {
    const seen: number[][] = [];
    const r = await evaluatePairs(
      { kind: 'embedding', output: 'embeddingA', input: 'anchor', metric: 'euclidean' },
      { inputs: { x1: t([1, 2], [2, 1]), x2: t([1, 5], [2, 1]) }, size: 2 },
      {
        outputs: () => Promise.reject(new Error('not used')),
        embed: async (input, images) => {
          expect(input).toBe('anchor');
          seen.push([...images.data]);
          return images.data;
        },
      },
    );
    expect(seen).toEqual([
      [1, 2],
      [1, 5],
    ]);
    expect([...r.scores].map((v) => v + 0)).toEqual([0, -3]);
  });
});

/** Writes report.html: charts from the run's history and validation scores, thumbnails of the worst mistakes. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type EpochRecord, rocCurve, writeFileAtomic } from '@siamese/core';
import type { Pair } from '@siamese/datasets';
import type { ReportData, ReportMistake } from '../report/data.js';
import { renderReport } from '../report/html.js';
import type { TrainingData } from './data.js';
import type { Finished } from './finish.js';

/** Chart.js's browser bundle, inlined so the report needs no network. */
async function chartJs(): Promise<string> {
  const main = createRequire(import.meta.url).resolve('chart.js');
  return readFile(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

async function thumbnail(planes: Float32Array, offset: number, data: TrainingData): Promise<string> {
  const ds = await import('@siamese/datasets');
  const { channels: c, height: h, width: w, mean, std } = data.preprocessing;
  const one = ds.denormalize(
    planes.subarray(offset * c * h * w, (offset + 1) * c * h * w),
    c,
    h * w,
    mean,
    std,
  );
  const pixels = Buffer.alloc(c * h * w);
  for (let y = 0; y < h * w; y++)
    for (let k = 0; k < c; k++)
      pixels[y * c + k] = Math.round(Math.min(1, Math.max(0, one[k * h * w + y]!)) * 255);
  const sharp = await ds.loadSharp();
  const png = await sharp(pixels, { raw: { width: w, height: h, channels: c as 1 | 3 } })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

async function mistakes(data: TrainingData, f: Finished, count: number): Promise<ReportMistake[]> {
  const t = f.threshold.probability;
  const idx = Array.from(f.test.probabilities.keys());
  const fa = idx
    .filter((i) => f.test.labels[i]! < 0.5 && f.test.probabilities[i]! >= t)
    .sort((a, b) => f.test.probabilities[b]! - f.test.probabilities[a]!);
  const fr = idx
    .filter((i) => f.test.labels[i]! >= 0.5 && f.test.probabilities[i]! < t)
    .sort((a, b) => f.test.probabilities[a]! - f.test.probabilities[b]!);
  const chosen = [
    ...fa.slice(0, count).map((i) => ['false accept', i] as const),
    ...fr.slice(0, count).map((i) => ['false reject', i] as const),
  ];
  if (chosen.length === 0) return [];
  const pairs: Pair[] = chosen.map(([, i]) => data.testPairs[i]!);
  const ds = await import('@siamese/datasets');
  const b = await data.pairBatch('test', pairs);
  const x1 = b.inputs.x1!.data;
  const x2 = b.inputs.x2!.data;
  const items = data.part('test').items;
  return Promise.all(
    chosen.map(async ([kind, i], k) => ({
      kind,
      score: f.test.probabilities[i]!,
      a: await thumbnail(x1, k, data),
      b: await thumbnail(x2, k, data),
      aName: ds.itemName(items[pairs[k]!.a]!),
      bName: ds.itemName(items[pairs[k]!.b]!),
    })),
  );
}

export async function writeReport(
  path: string,
  title: string,
  summary: ReportData['summary'],
  history: readonly EpochRecord[],
  data: TrainingData,
  f: Finished,
): Promise<void> {
  const same: number[] = [];
  const different: number[] = [];
  for (const [i, p] of f.val.probabilities.entries()) (f.val.labels[i]! >= 0.5 ? same : different).push(p);
  const report: ReportData = {
    title,
    createdAt: new Date().toISOString(),
    summary,
    history: history.map((h) => ({
      epoch: h.epoch,
      trainLoss: h.trainLoss,
      ...(h.validation?.loss !== undefined ? { valLoss: h.validation.loss } : {}),
      ...(h.validation
        ? { auc: h.validation.auc, accuracy: h.validation.accuracy, eer: h.validation.eer }
        : {}),
    })),
    roc: rocCurve(f.val.probabilities, f.val.labels).map((p) => ({ far: p.far, tar: p.tar })),
    scores: { same, different },
    threshold: f.threshold.probability,
    mistakes: await mistakes(data, f, 6),
    checks: f.checks,
  };
  await writeFileAtomic(path, new TextEncoder().encode(renderReport(report, await chartJs())));
}

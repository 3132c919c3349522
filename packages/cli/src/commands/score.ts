/** `siamese score MODEL PAIRS.csv --out scores.csv`: a probability and a decision for every listed pair. */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sigmoid, writeFileAtomic } from '@siamese/core';
import { configFor } from '../config/load.js';
import { UsageError } from '../errors.js';
import { count, openData, reportWarnings } from '../infer/data.js';
import { embedItems, headLogits } from '../infer/embed.js';
import { openModel } from '../infer/model.js';
import { deviceLine, thresholdText } from './format.js';
import { inferOptions, inferSettings, jsonOption } from './options.js';
import { str } from './parse.js';
import type { CommandDef } from './types.js';

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const score: CommandDef = {
  name: 'score',
  summary: 'score every pair of a pairs CSV offline: probability and decision, written to a CSV',
  positionals: ['MODEL', 'PAIRS'],
  options: {
    out: { type: 'string', value: 'FILE', description: 'the CSV to write: a,b,label,probability,same' },
    'skip-invalid': {
      type: 'boolean',
      default: false,
      description:
        'leave out rows whose images are missing or unreadable (a warning each) instead of stopping',
    },
    ...inferOptions,
    json: jsonOption,
  },
  details:
    "PAIRS is a CSV of 'a,b,label' rows (paths relative to the CSV; labels 1/0, same/different, true/false, yes/no; a header row is optional), as eval reads it. Each distinct image is embedded once and every pair is scored by the head. The output has one row per pair in file order: a, b, label (1/0), probability and same (1/0 at the model's calibrated threshold, empty without one). It is written atomically.",
  examples: [
    'siamese score model pairs.csv --out scores.csv',
    'siamese score model lfw/pairs.csv --out lfw-scores.csv --device cpu',
  ],
  async run(args, io) {
    const [dir, csv] = args.positionals as [string, string];
    const out = str(args.values.out);
    if (out === undefined) throw new UsageError('needs --out FILE (the scores CSV to write)');
    if ((await stat(out).catch(() => undefined))?.isDirectory()) {
      throw new UsageError(`--out '${out}' is a folder; name the CSV file`);
    }
    const info = await stat(csv).catch(() => undefined);
    if (!info?.isFile())
      throw new UsageError(`PAIRS '${csv}': ${info ? 'a folder, not a CSV file' : 'no such file'}`);
    const settings = inferSettings(args, await configFor(args));
    const sel = await openData({ source: csv, skipInvalid: Boolean(args.values['skip-invalid']) });
    reportWarnings(sel.warnings, io.err);
    const pairs = sel.pairs ?? [];
    const d = sel.dataset;
    const model = await openModel(dir, settings);
    try {
      const used = [...new Set(pairs.flatMap((p) => [p.a, p.b]))].sort((x, y) => x - y);
      const row = new Map(used.map((item, r) => [item, r]));
      const vectors = await embedItems(model, d, used, settings.batchSize);
      const logits = await headLogits(
        model,
        vectors,
        pairs.map((p) => row.get(p.a)!),
        pairs.map((p) => row.get(p.b)!),
      );
      const threshold = model.threshold;
      const lines = ['a,b,label,probability,same'];
      let decided = 0;
      for (const [k, p] of pairs.entries()) {
        const probability = sigmoid(logits[k]!);
        const same = threshold ? (probability >= threshold.probability ? '1' : '0') : '';
        if (threshold && (same === '1') === (p.same === 1)) decided++;
        lines.push(
          [d.items[p.a]!.id, d.items[p.b]!.id, String(p.same), probability.toFixed(6), same]
            .map(csvField)
            .join(','),
        );
      }
      await mkdir(dirname(out), { recursive: true });
      await writeFileAtomic(out, new TextEncoder().encode(`${lines.join('\n')}\n`));
      const device = await model.device();
      const accuracy = threshold && pairs.length > 0 ? decided / pairs.length : null;
      if (args.values.json) {
        io.out(
          JSON.stringify(
            { out, pairs: pairs.length, images: used.length, threshold: threshold ?? null, accuracy, device },
            null,
            2,
          ),
        );
        return;
      }
      io.out(`data        ${sel.description}`);
      io.out(
        `wrote ${out} (${count(pairs.length, 'pair')}, ${count(used.length, 'image')} embedded once each)`,
      );
      io.out(
        threshold
          ? `decisions   at threshold ${thresholdText(threshold)}: ${(accuracy! * 100).toFixed(1)}% agree with the labels`
          : 'decisions   none: the model has no calibrated threshold',
      );
      io.out(deviceLine(device));
    } finally {
      await model.dispose();
    }
  },
};

/**
 * `siamese eval MODEL --data SOURCE`: pair verification (accuracy, ROC AUC, EER, threshold at a
 * false-accept rate), N-way one-shot accuracy and retrieval (precision@1, MAP@R), at a bounded cost.
 */
import { configFor } from '../config/load.js';
import { UsageError } from '../errors.js';
import { count, openData, reportWarnings } from '../infer/data.js';
import { type EvalReport, isSkipped } from '../infer/eval-report.js';
import { evaluate } from '../infer/evaluate.js';
import { openModel } from '../infer/model.js';
import { deviceLine, fixed } from './format.js';
import { dataOptions, dataSettings, inferOptions, inferSettings, jsonOption } from './options.js';
import { nonNegativeInt, positiveInt, rate, str } from './parse.js';
import type { CommandDef } from './types.js';

export const evalCommand: CommandDef = {
  name: 'eval',
  summary: 'pair accuracy, ROC AUC, EER, threshold at a FAR, N-way one-shot accuracy, precision@1 and MAP@R',
  positionals: ['MODEL'],
  options: {
    ...dataOptions,
    pairs: {
      type: 'string',
      value: 'N',
      default: '1000',
      description: 'verification pairs (half same, half different; a CSV: at most N of its pairs)',
    },
    far: {
      type: 'string',
      value: 'RATE',
      default: '0.001',
      description: 'target false-accept rate for the operating threshold',
    },
    way: {
      type: 'string',
      value: 'N',
      description: 'N of N-way one-shot (default: 20, or the number of classes when fewer)',
    },
    episodes: { type: 'string', value: 'N', default: '50', description: 'one-shot episodes (0 to skip)' },
    gallery: {
      type: 'string',
      value: 'N',
      default: '200',
      description: 'images in the retrieval gallery, balanced over classes (0 to skip)',
    },
    seed: { type: 'string', value: 'N', default: '0', description: 'seeds the pairs, episodes and gallery' },
    ...inferOptions,
    json: jsonOption,
  },
  details:
    "Each image involved is embedded once; every pair is then scored by the model's head on the stored embeddings (the same score as the full model, at a fraction of the cost). The output says how many images and pairs that was. Omniglot folders get the 20-way within-alphabet protocol. With --split FILE, only --part of the data is used; a --data given on the command line ignores the config file's split.",
  examples: [
    'siamese eval runs/mnist/model --data mnist --split runs/mnist/split.json --part test',
    'siamese eval model --data omniglot/images_evaluation --way 20 --episodes 400',
    'siamese eval model --data lfw/pairs.csv --far 0.01 --json',
  ],
  async run(args, io) {
    const [dir] = args.positionals as [string];
    const loaded = await configFor(args);
    const data = dataSettings(args, loaded);
    if (data === undefined) {
      throw new UsageError(
        "needs --data SOURCE ('mnist', a folder or a CSV of pairs; or data.source in the config file)",
      );
    }
    const v = args.values;
    const options = {
      pairs: positiveInt('pairs', String(v.pairs)),
      far: rate('far', String(v.far)),
      ...(str(v.way) !== undefined ? { way: positiveInt('way', str(v.way)!) } : {}),
      episodes: nonNegativeInt('episodes', String(v.episodes)),
      gallery: nonNegativeInt('gallery', String(v.gallery)),
      seed: nonNegativeInt('seed', String(v.seed)),
    };
    if (options.way !== undefined && options.way < 2)
      throw new UsageError(`--way must be 2 or more, got ${options.way}`);
    const settings = inferSettings(args, loaded);

    const sel = await openData(data);
    reportWarnings(sel.warnings, io.err);
    const model = await openModel(dir, settings);
    try {
      const report = await evaluate(model, sel, { ...options, batchSize: settings.batchSize });
      const device = await model.device();
      if (v.json) {
        io.out(JSON.stringify({ model: dir, data: sel.description, ...report, device }, null, 2));
        return;
      }
      for (const line of formatReport(dir, sel.description, report)) io.out(line);
      io.out(deviceLine(device, model.precision));
    } finally {
      await model.dispose();
    }
  },
};

const row = (label: string, value: string) => `  ${label.padEnd(24)}${value}`;

function formatReport(dir: string, data: string, r: EvalReport): string[] {
  const lines = [
    `model       ${dir}`,
    `data        ${data}`,
    `cost        ${count(r.embedded, 'image')} embedded once, ${count(r.headScores, 'pair')} scored by the head`,
  ];
  const p = r.pairs;
  if (isSkipped(p)) lines.push(`pairs       skipped: ${p.skipped}`);
  else {
    const src = p.source === 'listed' ? `${p.count} of ${p.listed} listed pairs` : `${p.count} sampled pairs`;
    lines.push(`pairs       ${src} (${p.same} same, ${p.different} different)`);
    lines.push(row('ROC AUC', fixed(p.rocAuc)));
    lines.push(row('EER', `${fixed(p.eer)} at threshold ${fixed(p.eerThreshold)}`));
    lines.push(row('accuracy at EER', fixed(p.accuracyAtEer)));
    lines.push(
      row(
        "accuracy at model's",
        p.modelThreshold
          ? `${fixed(p.modelThreshold.accuracy)} (threshold ${fixed(p.modelThreshold.probability)}, ${p.modelThreshold.method})`
          : '- (the model has no calibrated threshold)',
      ),
    );
    lines.push(
      row(
        `threshold at FAR ${p.atFar.target}`,
        p.atFar.threshold === null
          ? 'none: no threshold keeps FAR at or below it'
          : `${fixed(p.atFar.threshold)} (FAR ${fixed(p.atFar.far)}, TAR ${fixed(p.atFar.tar)})`,
      ),
    );
    for (const n of p.notes) lines.push(`  note: ${n}`);
  }
  const o = r.oneShot;
  if (isSkipped(o)) lines.push(`one-shot    skipped: ${o.skipped}`);
  else {
    lines.push(
      `one-shot    ${o.way}-way ${o.protocol}, ${o.episodes} episodes, ${o.trials} trials: accuracy ${fixed(o.accuracy)}`,
    );
    for (const n of o.notes) lines.push(`  note: ${n}`);
  }
  const q = r.retrieval;
  if (isSkipped(q)) lines.push(`retrieval   skipped: ${q.skipped}`);
  else {
    lines.push(
      `retrieval   gallery of ${q.gallery} images, ${q.classes} classes: precision@1 ${fixed(q.precisionAt1)}, MAP@R ${fixed(q.mapAtR)}`,
    );
  }
  return lines;
}

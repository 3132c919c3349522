/**
 * `siamese train`: data in, a calibrated model out — split (manifest), train with checkpoints
 * and progress, calibrate the threshold on validation pairs, measure held-out test pairs, write
 * the model folder, metrics.jsonl and a self-contained HTML report.
 */
import { join, resolve } from 'node:path';
import {
  type Batch,
  COMBINE_MODES,
  freeze,
  type Graph,
  initWeights,
  isIdentityLoss,
  LOSS_KINDS,
  RESNET_PRESETS,
  type SiameseConfig,
  saveModel,
  scoreKind,
  siamese,
  siameseTraining,
  summarize,
  type TrainingBackend,
  train,
} from '@siamese/core';
import { configFor, isBuiltinSource } from '../config/load.js';
import { TRAIN_DEVICES } from '../config/siamese-config.js';
import type { Output } from '../io.js';
import { chooseBackend, preflightBackend } from '../train/backend-choice.js';
import { openTrainingData } from '../train/data.js';
import { finish } from '../train/finish.js';
import { type InitFile, readInitFile, startingWeights } from '../train/init.js';
import { duplicateWarnings } from '../train/lint-warning.js';
import { type LogRecord, MetricsLog } from '../train/metrics-log.js';
import { formatDuration, progressPrinter } from '../train/progress.js';
import { packageVersions, splitHash } from '../train/provenance.js';
import { writeReport } from '../train/report-file.js';
import { RunFolder } from '../train/run-folder.js';
import {
  AUGMENT_CHOICES,
  lossFor,
  OPTIMIZER_CHOICES,
  SPLIT_BY_CHOICES,
  TRAIN_BACKEND_CHOICES,
  type TrainSettings,
  trainSettings,
} from '../train/settings.js';
import { stallMessage } from '../train/stall.js';
import { configOption } from './options.js';
import type { CommandDef } from './types.js';

export const trainCommand: CommandDef = {
  name: 'train',
  summary: 'train a Siamese network on your images (or MNIST) and calibrate it',
  details:
    'Splits the data (train/val/test, written to OUT/split.json), trains with checkpoints in OUT/checkpoints,\n' +
    'calibrates the decision threshold on validation pairs (equal error rate, or --far), measures held-out\n' +
    'test pairs, and writes OUT/model (for compare, eval, export, embed), OUT/metrics.jsonl and OUT/report.html.\n' +
    'Ctrl-C saves a checkpoint; --resume continues from it.',
  options: {
    data: {
      type: 'string',
      value: 'SOURCE',
      config: 'data.source',
      description:
        "'mnist' (or some digits: mnist:0-4) or a folder with a folder of images per class (or Omniglot's alphabet/character tree)",
    },
    arch: {
      type: 'string',
      value: 'NAME',
      config: 'model.arch',
      description: `encoder: ${Object.keys(RESNET_PRESETS).join(', ')} (default resnet18; resnet18_w16 for mnist)`,
    },
    size: {
      type: 'string',
      value: 'N|HxW',
      config: 'model.input',
      description: 'image size (default 105; 28 for mnist)',
    },
    channels: {
      type: 'string',
      value: '1|3',
      config: 'model.input.channels',
      description: 'grayscale or RGB (default 3; 1 for mnist)',
    },
    combine: {
      type: 'string',
      value: 'MODE',
      config: 'model.combine',
      description: `how embeddings meet: ${COMBINE_MODES.join(', ')} (default absdiff)`,
    },
    loss: {
      type: 'string',
      value: 'KIND',
      config: 'train.loss',
      description: `${LOSS_KINDS.join(', ')} (default bce); contrastive and triplet need --combine euclidean; the identity losses (normface, cosface, arcface) train on labelled images and compare by cosine`,
    },
    margin: {
      type: 'string',
      value: 'M',
      description:
        'margin: contrastive or triplet (default 1), cosface (cosine margin, default 0.35), arcface (angle in radians, default 0.5)',
    },
    scale: {
      type: 'string',
      value: 'S',
      description: 'scale of the identity losses’ logits (default 30)',
    },
    // biome-ignore lint/suspicious/noThenProperty: the --then flag's definition, never awaited
    then: {
      type: 'string',
      value: 'bce',
      description:
        'two-stage recipe: after an identity loss, fine-tune a Siamese head (combine absdiff) on pairs with BCE, from that encoder',
    },
    'then-epochs': {
      type: 'string',
      value: 'N',
      description: 'epochs of the --then stage (default --epochs)',
    },
    'easy-margin': {
      type: 'boolean',
      description:
        'arcface: apply the margin only where the cosine is positive (default: the threshold rule)',
    },
    optimizer: {
      type: 'string',
      value: OPTIMIZER_CHOICES.join('|'),
      config: 'train.optimizer',
      description: 'optimizer (default adam)',
    },
    lr: {
      type: 'string',
      value: 'RATE',
      config: 'train.lr',
      description: 'peak learning rate, cosine-decayed after a warm-up (default 0.001)',
    },
    'weight-decay': { type: 'string', value: 'W', description: 'weight decay (default 0)' },
    epochs: { type: 'string', value: 'N', config: 'train.epochs', description: 'epochs (default 10)' },
    'batch-size': {
      type: 'string',
      value: 'N',
      config: 'train.batchSize',
      description: 'pairs per step (default 32)',
    },
    'pairs-per-epoch': {
      type: 'string',
      value: 'N',
      description: 'training pairs sampled per epoch, half same, half different (default 8000)',
    },
    'val-pairs': { type: 'string', value: 'N', description: 'validation and test pairs (default 2000 each)' },
    augment: {
      type: 'string',
      value: AUGMENT_CHOICES.join('|'),
      description:
        "training augmentation: Koch et al.'s affine ranges, optionally with lighting jitter (default none)",
    },
    'split-by': {
      type: 'string',
      value: SPLIT_BY_CHOICES.join('|'),
      description:
        'hold out images of every class (closed set), whole classes, or whole alphabets (open set) (default image)',
    },
    'holdout-classes': {
      type: 'string',
      value: 'N',
      description:
        'keep the last N classes out of training, for an open-set evaluation (OUT/split-openset.json)',
    },
    seed: {
      type: 'string',
      value: 'N',
      config: 'train.seed',
      description: 'seeds the split, pairs, augmentation and initialization (default 1)',
    },
    far: {
      type: 'string',
      value: 'RATE',
      description: 'calibrate the threshold for this false-accept rate instead of the equal error rate',
    },
    patience: {
      type: 'string',
      value: 'EPOCHS',
      description: 'stop when validation AUC has not improved for this many epochs',
    },
    backend: {
      type: 'string',
      value: TRAIN_BACKEND_CHOICES.join('|'),
      config: 'train.backend',
      description: 'training backend (default auto)',
    },
    device: {
      type: 'string',
      value: TRAIN_DEVICES.join('|'),
      config: 'train.device',
      description: 'where to train; gpu never falls back (default auto)',
    },
    out: {
      type: 'string',
      value: 'DIR',
      config: 'train.out',
      description: 'output folder (default runs/siamese)',
    },
    init: {
      type: 'string',
      value: 'FILE',
      description:
        'start from these weights: a model folder, a safetensors file or a PyTorch checkpoint (.pth, read without running its code); torchvision ResNet names, an encoder alone or a whole model',
    },
    'freeze-encoder-epochs': {
      type: 'string',
      value: 'N',
      description:
        'train only the head (or classifier) for the first N of --epochs, the encoder frozen with its BatchNorm in eval mode (default 0)',
    },
    'encoder-lr-factor': {
      type: 'string',
      value: 'F',
      description: "the encoder's learning rate as a factor of --lr, e.g. 0.1 (default 1)",
    },
    resume: {
      type: 'boolean',
      default: false,
      description: 'continue the run in OUT from its last checkpoint (same settings; --epochs may grow)',
    },
    overwrite: {
      type: 'boolean',
      default: false,
      description: 'replace the run OUT holds (it is deleted once this run saves its first checkpoint)',
    },
    config: configOption,
  },
  examples: [
    'siamese train --data mnist --epochs 6 --out runs/mnist',
    'siamese train --data photos/ --channels 3 --size 105 --augment koch --out runs/photos',
    'siamese train --data omniglot/images_background --split-by group --channels 1 --size 105 --augment koch',
    'siamese train --data photos/ --init resnet18.pth --freeze-encoder-epochs 2 --encoder-lr-factor 0.1 --out runs/ft',
  ],
  async run(args, io) {
    const started = performance.now();
    const s = trainSettings(args, await configFor(args));
    await preflightBackend(s);
    // The starting weights are read before any data, so a bad file costs nothing.
    const initFile = s.init ? await readInitFile(s.init) : undefined;
    // ... and checked against the model (the encoder's names and shapes) before any folder is touched.
    if (initFile) startingWeights(initFile, siamese(modelConfig(s)), s.seed);
    const folder = await RunFolder.claim(resolve(s.out), {
      resume: s.resume,
      overwrite: s.overwrite,
      settings: runSettings(s),
      command: process.argv.slice(2),
      warn: io.err,
    });
    try {
      const code = await trainRun(s, folder, initFile, io, started);
      await folder.record({
        status: code === 0 ? 'completed' : 'interrupted',
        ended: new Date().toISOString(),
      });
      return code;
    } catch (e) {
      // A fresh run that failed before its first checkpoint leaves nothing; a later failure
      // leaves a resumable run, marked as failed.
      if (!(await folder.abandon()))
        await folder
          .record({ status: 'failed', ended: new Date().toISOString(), error: (e as Error).message })
          .catch(() => undefined);
      throw e;
    } finally {
      await folder.release();
    }
  },
};

/** The model a run of these settings trains (also what `siamese import` rebuilds). */
export function modelConfig(s: TrainSettings): SiameseConfig {
  return {
    encoder: s.arch,
    input: { channels: s.channels, height: s.height, width: s.width },
    combine: s.combine,
    ...(s.hidden || s.dropout !== undefined
      ? {
          head: {
            ...(s.hidden ? { hidden: s.hidden } : {}),
            ...(s.dropout !== undefined ? { dropout: s.dropout } : {}),
          },
        }
      : {}),
    normalizeEmbeddings: s.normalizeEmbeddings,
  };
}

/** The settings that define a run, as OUT/run.json records them. */
function runSettings(s: TrainSettings): Record<string, unknown> {
  // Paths as absolute ones, so `photos/` and `./photos` are the same run's data.
  const path = (p: string) => (isBuiltinSource(p) ? p : resolve(p));
  return JSON.parse(
    JSON.stringify({
      ...s,
      source: path(s.source),
      ...(s.init ? { init: resolve(s.init) } : {}),
      out: resolve(s.out),
    }),
  ) as Record<string, unknown>;
}

async function trainRun(
  s: TrainSettings,
  folder: RunFolder,
  initFile: InitFile | undefined,
  io: Output,
  started: number,
): Promise<number> {
  // Every backend opened is disposed on every way out, errors included.
  const backends: { dispose(): void | Promise<void> }[] = [];
  const opened = <B extends { dispose(): void | Promise<void> }>(b: B): B => {
    backends.push(b);
    return b;
  };
  try {
    return await trainWith(s, folder, initFile, io, started, opened);
  } finally {
    await Promise.allSettled(backends.map(async (b) => b.dispose()));
  }
}

async function trainWith(
  s: TrainSettings,
  folder: RunFolder,
  initFile: InitFile | undefined,
  io: Output,
  started: number,
  opened: <B extends { dispose(): void | Promise<void> }>(b: B) => B,
): Promise<number> {
  const out = folder.dir;
  const data = await openTrainingData(s, out, io.err);
  const { train: tr, val, test } = data.split;
  for (const line of await duplicateWarnings(data.split, s.source)) io.err(line);
  const n = (x: number) => x.toLocaleString('en-US');
  io.out(
    `data: ${data.description}; split by ${s.splitBy}: ${n(tr.items.length)} train / ${n(val.items.length)} val / ${n(test.items.length)} test images`,
  );
  const config = modelConfig(s);
  const inference = siamese(config);
  const loss = lossFor(s, data.trainClasses.length);
  const training = siameseTraining(config, loss);
  const classifier = isIdentityLoss(loss)
    ? ` (+ a ${loss.classes}-identity classifier for training only)`
    : '';
  io.out(
    `model: ${s.arch} ${s.channels}x${s.height}x${s.width}, combine ${s.combine}, loss ${s.loss.kind}, ${summarize(inference).parameters.toLocaleString('en-US')} parameters${classifier}`,
  );
  const frozenEpochs = s.freezeEncoderEpochs;
  const chosen = await chooseBackend(s, frozenEpochs > 0 ? freeze(training, 'encoder.') : training);
  let backend = opened(chosen.backend);
  io.out(`backend: ${chosen.name}; ${backend.deviceSummary}`);
  if (initFile) {
    const start = startingWeights(initFile, training, s.seed, data.preprocessing);
    for (const line of start.lines) (line.startsWith('warning:') ? io.err : io.out)(line);
    await backend.writeWeights(start.weights);
  } else if (frozenEpochs > 0) {
    io.err('warning: --freeze-encoder-epochs without --init freezes a randomly initialized encoder');
  }

  await folder.record({
    data: { source: s.source, description: data.description, split: await splitHash(out) },
    backend: chosen.name,
    device: backend.deviceSummary,
    seed: s.seed,
    versions: await packageVersions(),
  });
  const metrics = await MetricsLog.open(join(out, 'metrics.jsonl'), s.resume, io.err);
  const log = (record: LogRecord) => metrics.log(record);
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    io.err('stopping after this step to save a checkpoint (Ctrl-C again to quit at once)');
  };
  const progress = progressPrinter(io, {
    tty: Boolean(process.stdout.isTTY),
    write: (t) => process.stdout.write(t),
  });
  const checkpoints = join(out, 'checkpoints');
  let stalled: string | undefined;
  /** One training run of the loop: `undefined` when Ctrl-C interrupted it (a checkpoint is saved). */
  const stage = async (o: {
    backend: TrainingBackend;
    graph: Graph;
    config: SiameseConfig;
    train: (epoch: number) => AsyncIterable<Batch>;
    stepsPerEpoch: number;
    epochs: number;
    dir: string;
    tag?: string;
  }) => {
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    try {
      const r = await train({
        backend: o.backend,
        model: { graph: o.graph, config: o.config, preprocessing: data.preprocessing },
        data: { train: o.train, stepsPerEpoch: o.stepsPerEpoch, validation: () => data.validation },
        epochs: o.epochs,
        lr: {
          lr: s.lr,
          schedule: { kind: 'cosine', minFactor: 0.05 },
          warmupSteps: Math.min(100, o.stepsPerEpoch),
        },
        ...(s.patience
          ? { earlyStopping: { metric: 'auc', mode: 'max' as const, patience: s.patience } }
          : {}),
        checkpoint: { dir: o.dir },
        resume: s.resume,
        runId: folder.runId,
        signal: controller.signal,
        onEvent: (e) => {
          progress(e);
          if (e.type === 'stall' && !stalled) {
            stalled = stallMessage(e, s);
            io.err(`warning: ${stalled}`);
          }
          if (e.type === 'epoch') void log(o.tag ? { ...e, stage: o.tag } : e);
          // The run replaced by --overwrite goes once this one has a checkpoint of its own.
          if (e.type === 'checkpoint')
            folder.dropPrevious().catch((err: unknown) => io.err(`warning: ${(err as Error).message}`));
        },
      });
      await metrics.syncStage(o.tag, r.history);
      return r.stopped === 'interrupted' ? undefined : r;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  };
  // Triplet and identity graphs have no head (and an identity graph a training-only classifier):
  // their checkpoints hold the training graph itself.
  const checkpointGraph = s.loss.kind === 'triplet' || isIdentityLoss(loss) ? training : inference;
  const trainStage = (b: typeof backend, epochs: number, dir: string, tag?: string) =>
    stage({
      backend: b,
      graph: checkpointGraph,
      config,
      train: (e) => data.train(e),
      stepsPerEpoch: data.stepsPerEpoch,
      epochs,
      dir,
      ...(tag ? { tag } : {}),
    });
  const lrNote = s.encoderLrFactor === undefined ? '' : `, the encoder at ${s.encoderLrFactor} x --lr`;
  if (frozenEpochs > 0)
    io.out(
      `frozen: the encoder (BatchNorm in eval mode) for ${frozenEpochs} epoch${frozenEpochs === 1 ? '' : 's'}; only the ${isIdentityLoss(loss) ? 'classifier' : 'head'} trains`,
    );
  if (lrNote && frozenEpochs === 0) io.out(`encoder: learning rate ${s.encoderLrFactor} x --lr`);
  if (lrNote && frozenEpochs === s.epochs)
    io.err('warning: --encoder-lr-factor has no effect: the encoder is frozen for every epoch');
  let first = await trainStage(
    backend,
    frozenEpochs || s.epochs,
    frozenEpochs > 0 ? join(checkpoints, 'frozen') : checkpoints,
    frozenEpochs > 0 ? 'frozen' : undefined,
  );
  if (first && frozenEpochs > 0 && frozenEpochs < s.epochs) {
    // Unfrozen: a fresh step graph that trains everything, from the frozen stage's best weights.
    const weights = await backend.readWeights();
    await backend.dispose();
    backend = opened((await chooseBackend(s, training)).backend);
    await backend.writeWeights(weights);
    io.out(`unfrozen: the whole model trains for ${s.epochs - frozenEpochs} more epochs${lrNote}`);
    const frozenRun = first;
    const rest = await trainStage(backend, s.epochs - frozenEpochs, checkpoints);
    first = rest && {
      ...rest,
      steps: frozenRun.steps + rest.steps,
      history: [
        ...frozenRun.history,
        ...rest.history.map((h) => ({ ...h, epoch: h.epoch + frozenRun.epochs })),
      ],
    };
  }
  if (!first) {
    await backend.dispose();
    return 130;
  }
  let result = first;
  let model = { backend, inference, training, config, combine: s.combine, history: first.history };
  if (s.then) {
    // The two-stage recipe: the identity-trained encoder, then the Siamese head on pairs.
    const config2: SiameseConfig = { ...config, combine: 'absdiff' };
    const inference2 = siamese(config2);
    const training2 = siameseTraining(config2, { kind: 'bce' });
    const encoder = [...(await backend.readWeights())].filter(([k]) => k.startsWith('encoder.'));
    await backend.dispose();
    const backend2 = opened((await chooseBackend(s, training2)).backend);
    await backend2.writeWeights(new Map([...initWeights(training2, s.seed), ...encoder]));
    io.out(
      `then: bce on pairs for ${s.then.epochs} epoch${s.then.epochs === 1 ? '' : 's'}, from the ${s.loss.kind} encoder, combine absdiff, ${summarize(inference2).parameters.toLocaleString('en-US')} parameters`,
    );
    const second = await stage({
      backend: backend2,
      graph: inference2,
      config: config2,
      train: (e) => data.pairTrain(e),
      stepsPerEpoch: data.pairStepsPerEpoch,
      epochs: s.then.epochs,
      dir: join(checkpoints, 'then'),
      tag: 'then',
    });
    if (!second) {
      await backend2.dispose();
      return 130;
    }
    result = second;
    const history = [
      ...first.history,
      ...second.history.map((h) => ({ ...h, epoch: h.epoch + first.epochs })),
    ];
    model = {
      backend: backend2,
      inference: inference2,
      training: training2,
      config: config2,
      combine: 'absdiff',
      history,
    };
  }
  // train() has left the best epoch's weights in the backend.
  const f = await finish(
    model.backend,
    data,
    { ...s, combine: model.combine },
    model.inference,
    scoreKind(model.training),
  );
  const modelDir = join(out, 'model');
  await saveModel(modelDir, {
    graph: model.inference,
    config: model.config,
    preprocessing: data.preprocessing,
    threshold: f.threshold,
    metrics: f.metrics,
    weights: f.weights,
    provenance: folder.provenance(),
  });
  await log({ type: 'test', ...f.metrics, threshold: f.threshold });
  const seconds = (performance.now() - started) / 1000;
  const pct = (v: number | undefined) => `${((v ?? 0) * 100).toFixed(2)}%`;
  const reportPath = join(out, 'report.html');
  await writeReport(
    reportPath,
    `siamese ${s.arch} on ${s.source}`,
    [
      ['data', data.description],
      [
        'model',
        `${s.arch} ${s.channels}x${s.height}x${s.width}, combine ${model.combine}, loss ${s.loss.kind}${s.then ? `, then bce for ${s.then.epochs} epochs` : ''}${s.init ? `, from ${s.init}` : ''}${s.freezeEncoderEpochs > 0 ? `, encoder frozen for ${s.freezeEncoderEpochs} epochs` : ''}${s.encoderLrFactor !== undefined ? `, encoder lr x${s.encoderLrFactor}` : ''}`,
      ],
      [
        'training',
        `${model.history.length} epochs, ${first.steps + (s.then ? result.steps : 0)} steps of ${s.batchSize}, ${s.optimizer} lr ${s.lr}, on ${model.backend.deviceSummary}`,
      ],
      [
        'threshold',
        `${f.threshold.probability.toFixed(4)} (${f.threshold.method === 'far' ? `false-accept rate ${s.far}` : 'equal error rate'} on validation pairs)`,
      ],
      [
        'test pairs',
        `${f.metrics.testPairs}: accuracy ${pct(f.metrics.testAccuracy)}, ROC AUC ${f.metrics.testAuc?.toFixed(4)}, EER ${pct(f.metrics.testEer)}`,
      ],
      ['time', formatDuration(seconds)],
      ...(stalled ? [['warning', stalled] as [string, string]] : []),
    ],
    model.history,
    data,
    f,
  );
  for (const c of f.checks) if (!c.ok) io.err(`warning: sanity check failed: ${c.name}: ${c.detail}`);
  io.out(
    `test pairs: accuracy ${pct(f.metrics.testAccuracy)} at threshold ${f.threshold.probability.toFixed(4)}, ROC AUC ${f.metrics.testAuc?.toFixed(4)}, EER ${pct(f.metrics.testEer)}`,
  );
  io.out(`model: ${modelDir}`);
  io.out(`report: ${reportPath}`);
  io.out(`done in ${formatDuration(seconds)}`);
  await model.backend.dispose();
  return 0;
}

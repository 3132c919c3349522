/** `siamese train` settings: flags over siamese.config.json over defaults, each checked once. */
import {
  COMBINE_MODES,
  type CombineMode,
  type IdentityLossConfig,
  isIdentityLoss,
  isResNetPreset,
  LOSS_KINDS,
  type LossConfig,
  RESNET_PRESETS,
  resolveIdentityLoss,
} from '@siamese/core';
import { nonNegativeInt, oneOfFlag, parseSize, positiveInt, rate } from '../commands/parse.js';
import type { ParsedArgs } from '../commands/types.js';
import { type LoadedConfig, setting } from '../config/load.js';
import { TRAIN_DEVICES } from '../config/siamese-config.js';
import { UsageError } from '../errors.js';

export const TRAIN_BACKEND_CHOICES = ['auto', 'tfjs', 'onnx'] as const;
export const OPTIMIZER_CHOICES = ['adam', 'adamw', 'sgd'] as const;
export const AUGMENT_CHOICES = ['none', 'koch', 'koch+lighting'] as const;
export const SPLIT_BY_CHOICES = ['image', 'class', 'group'] as const;

function nonNegativeNumber(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && Number.isFinite(n)))
    throw new UsageError(`--${flag} must be a number >= 0, got '${v}'`);
  return n;
}

/** The loss from its flags, an identity loss's settings checked by core's rule (classes aside). */
function lossSettings(
  kind: (typeof LOSS_KINDS)[number],
  margin: number | undefined,
  scale: number | undefined,
  easyMargin: boolean,
): LossSettings {
  if (kind === 'bce') return { kind };
  if (kind === 'contrastive' || kind === 'triplet')
    return { kind, ...(margin !== undefined ? { margin } : {}) };
  if (easyMargin && kind !== 'arcface')
    throw new UsageError(`--easy-margin is an arcface setting, not --loss ${kind}'s`);
  const loss = {
    kind,
    ...(margin !== undefined ? { margin } : {}),
    ...(scale !== undefined ? { scale } : {}),
    ...(easyMargin ? { easyMargin } : {}),
  };
  try {
    resolveIdentityLoss({ ...loss, classes: 2 });
  } catch (e) {
    throw new UsageError(`--loss ${kind}: ${(e as Error).message.replace(/^\w+: /, '')}`);
  }
  return loss;
}

function positiveNumber(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n > 0 && Number.isFinite(n)))
    throw new UsageError(`--${flag} must be a positive number, got '${v}'`);
  return n;
}

/**
 * The loss as settings give it: an identity loss's classifier size (the training identities) is
 * known only once the data is split; `lossFor` completes it.
 */
export type LossSettings = Exclude<LossConfig, IdentityLossConfig> | Omit<IdentityLossConfig, 'classes'>;

export function lossFor(s: Pick<TrainSettings, 'loss'>, classes: number): LossConfig {
  return isIdentityLoss({ kind: s.loss.kind })
    ? ({ ...s.loss, classes } as IdentityLossConfig)
    : (s.loss as LossConfig);
}

export interface TrainSettings {
  readonly source: string;
  readonly arch: string;
  readonly channels: 1 | 3;
  readonly height: number;
  readonly width: number;
  readonly combine: CombineMode;
  readonly hidden?: readonly number[];
  readonly dropout?: number;
  readonly normalizeEmbeddings: boolean;
  readonly loss: LossSettings;
  readonly optimizer: (typeof OPTIMIZER_CHOICES)[number];
  readonly lr: number;
  readonly weightDecay: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly pairsPerEpoch: number;
  readonly valPairs: number;
  readonly seed: number;
  readonly augment: (typeof AUGMENT_CHOICES)[number];
  readonly splitBy: (typeof SPLIT_BY_CHOICES)[number];
  readonly backend: (typeof TRAIN_BACKEND_CHOICES)[number];
  readonly device: (typeof TRAIN_DEVICES)[number];
  readonly out: string;
  readonly resume: boolean;
  /** Replace the run the output folder holds. */
  readonly overwrite: boolean;
  readonly patience?: number;
  readonly far?: number;
  /** Classes kept out of training entirely, for an open-set evaluation. */
  readonly holdoutClasses: number;
  /** The two-stage recipe: after an identity loss, fine-tune a Siamese head on pairs with BCE. */
  readonly then?: { readonly loss: 'bce'; readonly epochs: number };
  /** Starting weights: a safetensors file, a PyTorch checkpoint or a model folder. */
  readonly init?: string;
  /** The first epochs train everything but the encoder (its BatchNorm in eval mode). */
  readonly freezeEncoderEpochs: number;
  /** The encoder's learning rate as a factor of --lr (the head's). */
  readonly encoderLrFactor?: number;
}

export function trainSettings(args: ParsedArgs, loaded: LoadedConfig): TrainSettings {
  const c = loaded.config;
  const t = c.train ?? {};
  const m = c.model ?? {};
  const source = setting(args, 'data', c.data?.source);
  if (typeof source !== 'string' || source === '') {
    throw new UsageError(
      "--data is required: 'mnist', a folder of images (a folder per class) or a CSV of pairs",
    );
  }
  const mnist = source === 'mnist' || source.startsWith('mnist:');
  if (/^mnist:\d$/.test(source))
    throw new UsageError(
      `--data '${source}': one digit is one class; training needs at least two (e.g. mnist:0-4)`,
    );
  const arch = String(setting(args, 'arch', m.arch) ?? (mnist ? 'resnet18_w16' : 'resnet18'));
  if (!isResNetPreset(arch))
    throw new UsageError(
      `--arch '${arch}' is not a known architecture (known: ${Object.keys(RESNET_PRESETS).join(', ')})`,
    );
  const sizeFlag = setting(args, 'size', m.input ? `${m.input.height}x${m.input.width}` : undefined);
  const { height, width } = parseSize(String(sizeFlag ?? (mnist ? '28' : '105')));
  const channels = Number(setting(args, 'channels', m.input?.channels) ?? (mnist ? 1 : 3));
  if (channels !== 1 && channels !== 3)
    throw new UsageError(`--channels must be 1 (grayscale) or 3 (RGB), got '${channels}'`);
  const lossKind = oneOfFlag('loss', String(setting(args, 'loss', t.loss) ?? 'bce'), LOSS_KINDS);
  const identity = isIdentityLoss({ kind: lossKind });
  // An identity-trained model compares embeddings by cosine similarity.
  const combine = oneOfFlag(
    'combine',
    String(setting(args, 'combine', m.combine) ?? (identity ? 'cosine' : 'absdiff')),
    COMBINE_MODES,
  );
  const margin =
    args.values.margin === undefined
      ? undefined
      : identity
        ? nonNegativeNumber('margin', String(args.values.margin))
        : positiveNumber('margin', String(args.values.margin));
  const scale =
    args.values.scale === undefined ? undefined : positiveNumber('scale', String(args.values.scale));
  if (scale !== undefined && !identity)
    throw new UsageError(
      `--scale is a setting of the identity losses (normface, cosface, arcface), not of --loss ${lossKind}`,
    );
  const loss = lossSettings(lossKind, margin, scale, args.values['easy-margin'] === true);
  if (identity && combine !== 'cosine') {
    throw new UsageError(
      `--loss ${lossKind} trains embeddings compared by cosine similarity: use --combine cosine (the default with this loss)`,
    );
  }
  if (!identity && lossKind !== 'bce' && combine !== 'euclidean') {
    throw new UsageError(
      `--loss ${lossKind} trains the embedding distance, not a head: use --combine euclidean (its head, a scale and bias on the distance, is calibrated after training)`,
    );
  }
  if (lossKind !== 'bce' && (m.head?.hidden?.length ?? 0) > 0) {
    throw new UsageError(
      `model.head.hidden must be [] with --loss ${lossKind}: the head of a distance-trained model is one scale and bias on the distance, fitted after training`,
    );
  }
  const thenLoss = args.values.then === undefined ? undefined : String(args.values.then);
  if (thenLoss !== undefined && thenLoss !== 'bce')
    throw new UsageError(`--then must be bce (a Siamese head fine-tuned on pairs), got '${thenLoss}'`);
  if (thenLoss && !identity)
    throw new UsageError(
      `--then bce follows an identity loss (--loss normface, cosface or arcface), not --loss ${lossKind}`,
    );
  if (!thenLoss && args.values['then-epochs'] !== undefined)
    throw new UsageError('--then-epochs goes with --then bce');
  const then = thenLoss
    ? {
        loss: 'bce' as const,
        epochs: positiveInt(
          'then-epochs',
          String(args.values['then-epochs'] ?? setting(args, 'epochs', t.epochs) ?? '10'),
        ),
      }
    : undefined;
  if (args.values.resume === true && args.values.overwrite === true)
    throw new UsageError('--resume continues the run in --out and --overwrite replaces it: give one of them');
  const epochs = positiveInt('epochs', String(setting(args, 'epochs', t.epochs) ?? '10'));
  const init = args.values.init === undefined ? undefined : String(args.values.init);
  if (init === '') throw new UsageError('--init needs a file or model folder');
  const freezeEncoderEpochs =
    args.values['freeze-encoder-epochs'] === undefined
      ? 0
      : nonNegativeInt('freeze-encoder-epochs', String(args.values['freeze-encoder-epochs']));
  if (freezeEncoderEpochs > epochs)
    throw new UsageError(
      `--freeze-encoder-epochs ${freezeEncoderEpochs} is more than --epochs ${epochs}: the frozen epochs are the first of --epochs`,
    );
  if (freezeEncoderEpochs > 0 && (lossKind === 'contrastive' || lossKind === 'triplet'))
    throw new UsageError(
      `--freeze-encoder-epochs trains the head (or an identity loss's classifier) alone; --loss ${lossKind} trains the encoder only, so nothing would train`,
    );
  if (freezeEncoderEpochs > 0 && then)
    throw new UsageError(
      '--freeze-encoder-epochs goes with one-stage training, not --then bce (whose stage already starts from the trained encoder)',
    );
  const encoderLrFactor =
    args.values['encoder-lr-factor'] === undefined
      ? undefined
      : positiveNumber('encoder-lr-factor', String(args.values['encoder-lr-factor']));
  const patience =
    args.values.patience === undefined ? undefined : positiveInt('patience', String(args.values.patience));
  const far = args.values.far === undefined ? undefined : rate('far', String(args.values.far));
  const backend = oneOfFlag(
    'backend',
    String(setting(args, 'backend', t.backend) ?? 'auto'),
    TRAIN_BACKEND_CHOICES,
  );
  return {
    source,
    arch,
    channels: channels as 1 | 3,
    height,
    width,
    combine,
    ...(m.head?.hidden ? { hidden: m.head.hidden } : {}),
    ...(m.head?.dropout !== undefined ? { dropout: m.head.dropout } : {}),
    normalizeEmbeddings: m.normalizeEmbeddings ?? false,
    loss,
    optimizer: oneOfFlag(
      'optimizer',
      String(setting(args, 'optimizer', t.optimizer) ?? 'adam'),
      OPTIMIZER_CHOICES,
    ),
    lr: positiveNumber('lr', String(setting(args, 'lr', t.lr) ?? '0.001')),
    weightDecay:
      args.values['weight-decay'] === undefined
        ? 0
        : rate('weight-decay', String(args.values['weight-decay'])),
    epochs,
    batchSize: positiveInt('batch-size', String(setting(args, 'batch-size', t.batchSize) ?? '32')),
    pairsPerEpoch: positiveInt('pairs-per-epoch', String(args.values['pairs-per-epoch'] ?? '8000')),
    valPairs: positiveInt('val-pairs', String(args.values['val-pairs'] ?? '2000')),
    seed: nonNegativeInt('seed', String(setting(args, 'seed', t.seed) ?? '1')),
    augment: oneOfFlag('augment', String(args.values.augment ?? 'none'), AUGMENT_CHOICES),
    splitBy: oneOfFlag('split-by', String(args.values['split-by'] ?? 'image'), SPLIT_BY_CHOICES),
    backend,
    device: oneOfFlag('device', String(setting(args, 'device', t.device) ?? 'auto'), TRAIN_DEVICES),
    out: String(setting(args, 'out', t.out) ?? 'runs/siamese'),
    resume: args.values.resume === true,
    overwrite: args.values.overwrite === true,
    holdoutClasses:
      args.values['holdout-classes'] === undefined
        ? 0
        : nonNegativeInt('holdout-classes', String(args.values['holdout-classes'])),
    ...(patience !== undefined ? { patience } : {}),
    ...(far !== undefined ? { far } : {}),
    ...(then ? { then } : {}),
    ...(init !== undefined ? { init } : {}),
    freezeEncoderEpochs,
    ...(encoderLrFactor !== undefined ? { encoderLrFactor } : {}),
  };
}

/**
 * The Siamese wrapper: one shared-weight encoder applied to both images, a combine step and an
 * MLP head that outputs a same/different logit. Encoder parameters live under `encoder.`, head
 * parameters under `head.` with nn.Sequential indices (Linear, ReLU, Dropout, ..., Linear).
 */
import { GraphBuilder } from '../ir/builder.js';
import type { Graph, Value } from '../ir/types.js';
import {
  bceLoss,
  contrastiveLoss,
  identityLoss,
  isIdentityLoss,
  type LossConfig,
  tripletLoss,
} from '../losses/index.js';
import { linear } from './layers.js';
import {
  type ResNetConfig,
  resnetEmbeddingSize,
  resnetEncoder,
  resnetPreset,
  resolveResNet,
} from './resnet.js';

export const COMBINE_MODES = ['absdiff', 'diff', 'concat', 'euclidean', 'cosine'] as const;
/**
 * How the two embeddings meet: `absdiff` |a - b| (default, symmetric), `diff` a - b (the original
 * model; not symmetric), `concat` [a, b], or a distance (`euclidean`, `cosine`) fed to a small head.
 */
export type CombineMode = (typeof COMBINE_MODES)[number];

export interface HeadConfig {
  /** Hidden layer widths. Default [1023] (the original) for feature combines, [] for distance combines. */
  readonly hidden?: readonly number[];
  /** Dropout after each hidden layer's ReLU. Default 0.5. */
  readonly dropout?: number;
}

export interface SiameseConfig {
  /** A ResNet config or a preset name such as 'resnet18'. */
  readonly encoder: ResNetConfig | string;
  readonly input: { readonly channels: number; readonly height: number; readonly width: number };
  readonly combine?: CombineMode;
  readonly head?: HeadConfig;
  /** L2-normalize embeddings before combining (common with contrastive and triplet losses). */
  readonly normalizeEmbeddings?: boolean;
}

export interface ResolvedSiameseConfig {
  readonly encoder: Required<ResNetConfig>;
  readonly input: SiameseConfig['input'];
  readonly combine: CombineMode;
  readonly head: { readonly hidden: readonly number[]; readonly dropout: number };
  readonly normalizeEmbeddings: boolean;
}

export function resolveSiamese(c: SiameseConfig): ResolvedSiameseConfig {
  const { channels, height, width } = c.input;
  for (const [k, v] of Object.entries({ channels, height, width })) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`siamese: input.${k} must be a positive integer, got ${v}`);
  }
  const base = typeof c.encoder === 'string' ? resnetPreset(c.encoder) : c.encoder;
  const encoder = resolveResNet({ ...base, inChannels: channels });
  const combine = c.combine ?? 'absdiff';
  if (!COMBINE_MODES.includes(combine)) {
    throw new Error(`siamese: combine must be one of ${COMBINE_MODES.join(', ')}, got '${combine}'`);
  }
  const distance = combine === 'euclidean' || combine === 'cosine';
  const hidden = c.head?.hidden ?? (distance ? [] : [1023]);
  if (!hidden.every((h) => Number.isInteger(h) && h >= 1))
    throw new Error(`siamese: head.hidden must be positive integers, got [${hidden.join(',')}]`);
  const dropout = c.head?.dropout ?? 0.5;
  if (!(dropout >= 0 && dropout < 1))
    throw new Error(`siamese: head.dropout must be in [0, 1), got ${dropout}`);
  return {
    encoder,
    input: c.input,
    combine,
    head: { hidden, dropout },
    normalizeEmbeddings: c.normalizeEmbeddings ?? false,
  };
}

function embed(b: GraphBuilder, tag: string, x: Value, c: ResolvedSiameseConfig): Value {
  return b.branch(tag, () =>
    b.scope('encoder', () => {
      const e = resnetEncoder(b, x, c.encoder);
      return c.normalizeEmbeddings ? b.op('l2Normalize', [e], { axis: 1 }, 'normalize') : e;
    }),
  );
}

function combineAndHead(b: GraphBuilder, ea: Value, eb: Value, c: ResolvedSiameseConfig): Value {
  const d = resnetEmbeddingSize(c.encoder);
  let h: Value;
  let width: number;
  switch (c.combine) {
    case 'absdiff':
      h = b.op('abs', [b.op('sub', [ea, eb], {}, 'combine.sub')], {}, 'combine');
      width = d;
      break;
    case 'diff':
      h = b.op('sub', [ea, eb], {}, 'combine');
      width = d;
      break;
    case 'concat':
      h = b.op('concat', [ea, eb], { axis: 1 }, 'combine');
      width = 2 * d;
      break;
    case 'euclidean':
      h = b.op('euclideanDistance', [ea, eb], {}, 'combine');
      width = 1;
      break;
    case 'cosine':
      h = b.op('cosineSimilarity', [ea, eb], {}, 'combine');
      width = 1;
      break;
  }
  return b.scope('head', () => {
    let index = 0;
    for (const hiddenWidth of c.head.hidden) {
      h = linear(b, String(index), h, width, hiddenWidth);
      h = b.op('relu', [h], {}, String(index + 1));
      h = b.op('dropout', [h], { p: c.head.dropout }, String(index + 2));
      width = hiddenWidth;
      index += 3;
    }
    return linear(b, String(index), h, width, 1);
  });
}

function begin(name: string, c: ResolvedSiameseConfig, count: number): { b: GraphBuilder; xs: Value[] } {
  const b = new GraphBuilder(name);
  const { channels, height, width } = c.input;
  const names = count === 2 ? ['x1', 'x2'] : ['anchor', 'positive', 'negative'];
  const xs = names.map((n) => b.input(n, 'float32', ['N', channels, height, width]));
  b.setMeta('siamese', c);
  return { b, xs };
}

/**
 * The inference graph: inputs `x1`, `x2` [N, C, H, W]; outputs `logit` and `probability` [N, 1]
 * and each side's embedding (`embeddingA`, `embeddingB`) so exporters can cut the graph.
 */
export function siamese(config: SiameseConfig): Graph {
  const c = resolveSiamese(config);
  const { b, xs } = begin('siamese', c, 2);
  const ea = embed(b, 'a', xs[0]!, c);
  const eb = embed(b, 'b', xs[1]!, c);
  const logit = combineAndHead(b, ea, eb, c);
  b.output('logit', logit);
  b.output('probability', b.op('sigmoid', [logit], {}, 'probability'));
  b.output('embeddingA', ea);
  b.output('embeddingB', eb);
  return b.build();
}

/**
 * The training graph for a loss: the inference graph plus a `labels` input [N, 1] (1 = same) and a
 * scalar `loss` output. Triplet training takes `anchor`, `positive`, `negative` images instead and
 * outputs their embeddings; its head (same parameter names) is calibrated after training. Identity
 * losses (normface, cosface, arcface) take labelled `images` [N, C, H, W] and class `labels` [N] and
 * output `embeddingA`; the inference graph then compares embeddings by cosine similarity
 * (combine 'cosine'), its head calibrated after training.
 */
export function siameseTraining(config: SiameseConfig, loss: LossConfig): Graph {
  const c = resolveSiamese(config);
  if (isIdentityLoss(loss)) {
    // Labelled images through the encoder once; the classifier and margin are the loss's.
    const b = new GraphBuilder(`siamese_${loss.kind}`);
    const { channels, height, width } = c.input;
    const images = b.input('images', 'float32', ['N', channels, height, width]);
    const labels = b.input('labels', 'float32', ['N']);
    b.setMeta('siamese', c);
    const e = embed(b, 'a', images, c);
    b.output('loss', identityLoss(b, e, labels, loss));
    b.output('embeddingA', e);
    b.setMeta('loss', loss);
    return b.build();
  }
  if (loss.kind === 'triplet') {
    const { b, xs } = begin('siamese_triplet', c, 3);
    const [ea, ep, en] = ['a', 'p', 'n'].map((tag, i) => embed(b, tag, xs[i]!, c)) as [Value, Value, Value];
    b.output('loss', tripletLoss(b, ea, ep, en, loss.margin));
    b.output('embeddingA', ea);
    b.output('embeddingP', ep);
    b.output('embeddingN', en);
    b.setMeta('loss', loss);
    return b.build();
  }
  const { b, xs } = begin(`siamese_${loss.kind}`, c, 2);
  const labels = b.input('labels', 'float32', ['N', 1]);
  const ea = embed(b, 'a', xs[0]!, c);
  const eb = embed(b, 'b', xs[1]!, c);
  const logit = combineAndHead(b, ea, eb, c);
  if (loss.kind === 'bce') {
    b.output('loss', bceLoss(b, logit, labels));
  } else {
    const { loss: l, distance } = contrastiveLoss(b, ea, eb, labels, loss.margin);
    b.output('loss', l);
    b.output('distance', distance);
  }
  b.output('logit', logit);
  b.output('embeddingA', ea);
  b.output('embeddingB', eb);
  b.setMeta('loss', loss);
  return b.build();
}

/**
 * The three ONNX cuts of a Siamese inference graph (core `siamese()`):
 * - `pair`: x1, x2 [N, C, H, W] -> logit, probability [N, 1]. The shared encoder runs ONCE over both
 *   images (Concat on the batch axis, encoder, Split in two): half the kernel launches, twice the batch.
 *   Valid in eval mode only, where BatchNorm uses running statistics and samples do not interact.
 * - `encoder`: image [N, C, H, W] -> embedding [N, D], to embed a gallery once.
 * - `head`: embeddingA, embeddingB [N, D] -> logit, probability, to score stored embeddings.
 */
import { extract, type Graph, GraphError, type Tensor, weightsForGraph } from '@siamese/core';
import type { ValueInfoProto } from '../proto/onnx_pb.js';
import { pairRanges } from '../quantize/pair-ranges.js';
import { quantizeQdq } from '../quantize/qdq.js';
import type { ActivationRanges } from '../quantize/ranges.js';
import { attr, LoweringContext } from './context.js';
import { foldBatchNorm } from './fold.js';
import { lowerGraph } from './graph.js';
import { type ExportOptions, serializeModel, valueInfo } from './model.js';

export const SIAMESE_CUTS = ['pair', 'encoder', 'head'] as const;
export type SiameseCutName = (typeof SIAMESE_CUTS)[number];

/** metadata_props key naming the cut of an exported Siamese model. */
export const CUT_METADATA_KEY = 'cut';

const REQUIRED_OUTPUTS = ['logit', 'probability', 'embeddingA', 'embeddingB'] as const;

const CUT_DOCS: Readonly<Record<SiameseCutName, string>> = {
  pair: 'Siamese pair scorer: x1, x2 [N, C, H, W] -> logit, probability [N, 1] (1 = same identity).',
  encoder: 'Siamese encoder: image [N, C, H, W] -> embedding [N, D].',
  head: 'Siamese head: embeddingA, embeddingB [N, D] -> logit, probability [N, 1] (1 = same identity).',
};

/** The encoder (`image` -> `embedding`) or head (`embeddingA`, `embeddingB` -> `logit`, `probability`) sub-graph. */
export function siameseCut(graph: Graph, cut: 'encoder' | 'head'): Graph {
  requireSiamese(graph);
  if (cut === 'encoder') {
    return extract(graph, {
      name: `${graph.name}_encoder`,
      inputs: [{ name: 'image', value: 'x1' }],
      outputs: [{ name: 'embedding', value: 'embeddingA' }],
    });
  }
  return extract(graph, {
    name: `${graph.name}_head`,
    inputs: [
      { name: 'embeddingA', value: 'embeddingA' },
      { name: 'embeddingB', value: 'embeddingB' },
    ],
    outputs: [
      { name: 'logit', value: 'logit' },
      { name: 'probability', value: 'probability' },
    ],
  });
}

export interface SiameseCutOptions extends ExportOptions {
  /**
   * Ranges from `calibrateSiamese` (the encoder cut calibrated on real images): the cut is written
   * in int8 QDQ form. The pair cut is quantized up to its embeddings and its head stays float, as
   * does the head cut, which cannot be quantized.
   */
  readonly quantize?: ActivationRanges;
}

/**
 * Exports one cut as a serialized ModelProto. `weights` are checked against the WHOLE Siamese graph
 * first, so a wrong file is reported the same way whichever cut is asked for.
 */
export function exportSiameseCut(
  graph: Graph,
  weights: ReadonlyMap<string, Tensor>,
  cut: SiameseCutName,
  opts: SiameseCutOptions = {},
): Uint8Array {
  if (!SIAMESE_CUTS.includes(cut)) {
    throw new Error(`export: unknown cut '${String(cut)}' (expected one of: ${SIAMESE_CUTS.join(', ')})`);
  }
  const { quantize, ...fp32 } = opts;
  if (quantize) return quantizedCut(graph, weights, cut, fp32, quantize);
  requireSiamese(graph);
  const checked = weightsForGraph(graph, weights);
  const body = cut === 'pair' ? pairModel(graph, checked, opts) : singleModel(graph, checked, cut, opts);
  return serializeModel(
    body.ctx,
    { graph, name: `${graph.name}_${cut}`, ...body, metadata: { [CUT_METADATA_KEY]: cut } },
    { docString: CUT_DOCS[cut], ...opts },
  );
}

function quantizedCut(
  graph: Graph,
  weights: ReadonlyMap<string, Tensor>,
  cut: SiameseCutName,
  opts: ExportOptions,
  ranges: ActivationRanges,
): Uint8Array {
  if (cut === 'head') {
    throw new Error(
      'export: the head cut stays fp32 (it runs on embeddings: int8 would cost accuracy and save no time); quantize the pair or encoder cut',
    );
  }
  if (opts.foldBatchNorm === false) {
    throw new Error('export: int8 needs BatchNorm folded into the convolutions; leave foldBatchNorm on');
  }
  const encoder = exportSiameseCut(graph, weights, 'encoder', opts);
  if (cut === 'encoder') return quantizeQdq(encoder, ranges);
  const pair = exportSiameseCut(graph, weights, 'pair', opts);
  return quantizeQdq(pair, pairRanges(pair, encoder, ranges), { upTo: ['embeddingA', 'embeddingB'] });
}

type Prepared = { readonly graph: Graph; readonly weights: ReadonlyMap<string, Tensor> };

/** A lowered model before serialization. */
interface Body {
  readonly ctx: LoweringContext;
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
}

function prepare(sub: Graph, weights: ReadonlyMap<string, Tensor>, opts: ExportOptions): Prepared {
  return opts.foldBatchNorm === false ? { graph: sub, weights } : foldBatchNorm(sub, weights);
}

function singleModel(
  graph: Graph,
  weights: ReadonlyMap<string, Tensor>,
  cut: 'encoder' | 'head',
  opts: ExportOptions,
): Body {
  const { graph: g, weights: w } = prepare(siameseCut(graph, cut), weights, opts);
  const ctx = new LoweringContext();
  const outputs = lowerGraph(ctx, g, w);
  return {
    ctx,
    inputs: g.inputs.map((i) => valueInfo(i.name, i)),
    outputs: g.outputs.map((o) => valueInfo(outputs.get(o.name)!, g.values[o.value]!)),
  };
}

/**
 * Images up to this many values (C x H x W) run the encoder once over both sides; larger ones run
 * it once per side. Measured with bench/infer-throughput (batch 8, 2 threads, onnxruntime 1.30 CPU):
 * stacking is ~3% faster than two passes at 1x105x105 and ~6% slower at 3x224x224, where the doubled
 * activations outgrow the caches.
 */
export const STACK_ENCODER_MAX_VALUES = 128 * 128;

/** Whether the pair cut runs the encoder once over both images (see `ExportOptions.pairEncoder`). */
export function stacksEncoder(graph: Graph, opts: ExportOptions): boolean {
  const mode = opts.pairEncoder ?? 'auto';
  if (mode !== 'auto') return mode === 'stacked';
  const x1 = graph.inputs.find((i) => i.name === 'x1')!;
  const values = x1.shape.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
  return values <= STACK_ENCODER_MAX_VALUES;
}

function pairModel(graph: Graph, weights: ReadonlyMap<string, Tensor>, opts: ExportOptions): Body {
  const encoder = prepare(siameseCut(graph, 'encoder'), weights, opts);
  const head = siameseCut(graph, 'head');
  const [x1, x2] = ['x1', 'x2'].map((n) => graph.inputs.find((i) => i.name === n)!);
  const ctx = new LoweringContext();
  ctx.reserve('x1');
  ctx.reserve('x2');
  const encode = (input: string, output: string): string =>
    lowerGraph(ctx, encoder.graph, encoder.weights, {
      inputs: new Map([['image', input]]),
      outputs: new Map([['embedding', output]]),
    }).get('embedding')!;
  let ea: string;
  let eb: string;
  if (stacksEncoder(graph, opts)) {
    const both = ctx.op('Concat', ['x1', 'x2'], [attr.int('axis', 0)], ctx.fresh('x1x2'));
    const embedded = encode(both, 'embeddings');
    // No `split` input: equal halves, i.e. the x1 rows then the x2 rows, whatever N is at run time.
    [ea, eb] = [ctx.fresh('embeddingA'), ctx.fresh('embeddingB')];
    ctx.node('Split', [embedded], [ea, eb], [attr.int('axis', 0)]);
  } else {
    // Both passes bind the same weight tensors, which the context stores once.
    ea = encode('x1', 'embeddingA');
    eb = encode('x2', 'embeddingB');
  }
  const outputs = lowerGraph(ctx, head, weights, {
    inputs: new Map([
      ['embeddingA', ea],
      ['embeddingB', eb],
    ]),
  });
  return {
    ctx,
    inputs: [valueInfo('x1', x1!), valueInfo('x2', x2!)],
    outputs: head.outputs.map((o) => valueInfo(outputs.get(o.name)!, head.values[o.value]!)),
  };
}

function requireSiamese(graph: Graph): void {
  const inputs = graph.inputs.map((i) => i.name);
  const outputs = graph.outputs.map((o) => o.name);
  const missing = [
    ...['x1', 'x2'].filter((n) => !inputs.includes(n)).map((n) => `input '${n}'`),
    ...REQUIRED_OUTPUTS.filter((n) => !outputs.includes(n)).map((n) => `output '${n}'`),
  ];
  if (missing.length > 0) {
    throw new GraphError(
      `export: graph '${graph.name}' is not a Siamese inference graph from siamese(): it lacks ${missing.join(', ')}`,
    );
  }
}

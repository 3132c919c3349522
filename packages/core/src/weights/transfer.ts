/**
 * Starting weights from a file made elsewhere: a torchvision ResNet state_dict (an encoder alone,
 * `fc.*` ignored), a whole Siamese model (`encoder.*` plus head), with or without DataParallel's
 * `module.` prefix. Encoder tensors must all be there with their shapes (a wrong architecture is
 * an error that names the right one when it can); the input convolution is adapted to the model's
 * channel count as timm does; everything the file does not give (a new head, an identity
 * classifier) keeps its seeded initialization.
 */

import { formatShape, shapesEqual } from '../ir/shape.js';
import type { Graph, Param } from '../ir/types.js';
import { initWeights } from '../nn/init.js';
import { RESNET_PRESETS, resnet } from '../nn/resnet.js';
import type { Tensor } from '../tensor/tensor.js';
import { isBatchCounter, weightsForGraph } from './check.js';
import { weightsError } from './errors.js';

/** The model's first convolution: the one whose input channels follow the images'. */
const INPUT_CONV = 'conv1.weight';
const ENCODER = 'encoder.';

export interface TransferOptions {
  /** Seeds the initialization of whatever the file does not give. */
  readonly seed: number;
  /** The file, for messages. */
  readonly source?: string;
}

export interface TransferReport {
  /** What the file held: a Siamese model (`encoder.*` and more) or an encoder alone. */
  readonly kind: 'siamese' | 'encoder';
  /** How many of the graph's tensors came from the file. */
  readonly loaded: number;
  /** A prefix removed from every name (DataParallel's `module.`). */
  readonly stripped?: string;
  /** The input convolution, adapted from the file's channel count to the model's. */
  readonly adapted?: { readonly name: string; readonly from: number; readonly to: number };
  /** File tensors left out, with why (a torchvision classifier, a head of another shape). */
  readonly ignored: readonly { readonly name: string; readonly why: string }[];
  /** Graph parameters the file did not give: they keep their seeded initialization. */
  readonly initialized: readonly string[];
}

export interface Transfer {
  /** Every parameter and buffer of the graph, in graph order. */
  readonly weights: Map<string, Tensor>;
  readonly report: TransferReport;
}

/** `module.` when every name has it (a model saved while wrapped in DataParallel/DDP). */
function wrapperPrefix(names: readonly string[]): string | undefined {
  return names.length > 0 && names.every((n) => n.startsWith('module.')) ? 'module.' : undefined;
}

/**
 * The graph's weights: the file's where it has them, the seeded initialization elsewhere. Throws a
 * WeightsError (one line, naming the file) when encoder tensors are missing, unexpected or of
 * another shape.
 */
export function transferWeights(
  graph: Graph,
  tensors: ReadonlyMap<string, Tensor>,
  o: TransferOptions,
): Transfer {
  const stripped = wrapperPrefix([...tensors.keys()]);
  const file = new Map([...tensors].map(([k, t]) => [stripped ? k.slice(stripped.length) : k, t]));
  const kind = [...file.keys()].some((k) => k.startsWith(ENCODER)) ? 'siamese' : 'encoder';
  const declared = new Map(graph.params.map((p) => [p.name, p]));
  const encoderParams = graph.params.filter((p) => p.name.startsWith(ENCODER));
  if (encoderParams.length === 0)
    throw weightsError(
      `the model graph '${graph.name}' has no encoder (no '${ENCODER}*' parameters)`,
      o.source,
    );

  const ignored: { name: string; why: string }[] = [];
  const taken = new Map<string, Tensor>();
  const unexpected: string[] = [];
  for (const [name, t] of file) {
    const target = kind === 'encoder' ? `${ENCODER}${name}` : name;
    if (kind === 'encoder' && (name === 'fc.weight' || name === 'fc.bias')) {
      ignored.push({ name, why: "torchvision's ImageNet classifier" });
    } else if (target.startsWith(ENCODER)) {
      if (declared.has(target)) taken.set(target, t);
      else unexpected.push(name);
    } else {
      // A Siamese file's head or classifier: kept only where this model has the same tensor.
      const p = declared.get(target);
      if (p && p.dtype === t.dtype && shapesEqual(p.shape, t.shape)) taken.set(target, t);
      else ignored.push({ name, why: p ? `this model's is ${formatShape(p.shape)}` : 'not in this model' });
    }
  }

  const missing = encoderParams.filter((p) => !taken.has(p.name) && !isBatchCounter(p));
  if (unexpected.length > 0 || missing.length > 0) {
    throw weightsError(mismatchMessage(file, kind, unexpected, missing), o.source);
  }

  let adapted: TransferReport['adapted'];
  const inputConv = `${ENCODER}${INPUT_CONV}`;
  for (const [name, t] of taken) {
    const p = declared.get(name)!;
    if (shapesEqual(p.shape, t.shape)) continue;
    if (name === inputConv && sameExceptAxis1(p.shape, t.shape)) {
      taken.set(name, adaptInputChannels(t, p.shape[1] as number));
      adapted = { name, from: t.shape[1] as number, to: p.shape[1] as number };
      continue;
    }
    const shown = kind === 'encoder' ? name.slice(ENCODER.length) : name;
    throw weightsError(
      `'${shown}' has shape ${formatShape(t.shape)} but the model needs ${formatShape(p.shape)}; is the file for another architecture or width?`,
      o.source,
      shown,
    );
  }

  const weights = new Map(initWeights(graph, o.seed));
  for (const [name, t] of taken) weights.set(name, t);
  const initialized = graph.params
    .filter((p) => p.kind === 'parameter' && !taken.has(p.name))
    .map((p) => p.name);
  return {
    weights: weightsForGraph(graph, weights, o.source ? { source: o.source } : {}),
    report: {
      kind,
      loaded: taken.size,
      ...(stripped ? { stripped } : {}),
      ...(adapted ? { adapted } : {}),
      ignored,
      initialized,
    },
  };
}

function sameExceptAxis1(a: readonly (number | string)[], b: readonly (number | string)[]): boolean {
  return a.length === 4 && b.length === 4 && [0, 2, 3].every((i) => a[i] === b[i]);
}

/**
 * A [O, Cs, kh, kw] kernel for Ct input channels: summed over the channels for one (a grey image
 * is every colour channel at once), otherwise the channels repeated in turn and scaled by Cs / Ct,
 * so a constant image of any channel count gives the same response (timm's rule).
 */
export function adaptInputChannels(t: Tensor, to: number): Tensor {
  if (t.dtype !== 'float32') throw weightsError(`the input convolution is ${t.dtype}, not float32`);
  const [out, from, kh, kw] = t.shape as number[] as [number, number, number, number];
  const src = t.data as Float32Array;
  const k = kh * kw;
  const data = new Float32Array(out * to * k);
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < (to === 1 ? from : to); c++) {
      const s = (o * from + (to === 1 ? c : c % from)) * k;
      const d = (o * to + (to === 1 ? 0 : c)) * k;
      const scale = to === 1 ? 1 : from / to;
      for (let i = 0; i < k; i++) data[d + i]! += src[s + i]! * scale;
    }
  }
  return { dtype: 'float32', shape: [out, to, kh, kw], data };
}

/** Why the file's encoder does not fit, naming the architecture it does fit when one does. */
function mismatchMessage(
  file: ReadonlyMap<string, Tensor>,
  kind: TransferReport['kind'],
  unexpected: readonly string[],
  missing: readonly Param[],
): string {
  const local = (n: string) => (kind === 'encoder' ? n : n.slice(ENCODER.length));
  const encoderOfFile = new Map(
    [...file]
      .filter(([k]) => (kind === 'encoder' ? !k.startsWith('fc.') : k.startsWith(ENCODER)))
      .map(([k, t]) => [local(k), t]),
  );
  const fits = presetOf(encoderOfFile);
  const parts: string[] = [];
  if (missing.length > 0)
    parts.push(
      `${missing.length} encoder tensor${missing.length === 1 ? '' : 's'} missing (${list(missing.map((p) => p.name.slice(ENCODER.length)))})`,
    );
  if (unexpected.length > 0)
    parts.push(
      `${unexpected.length} tensor${unexpected.length === 1 ? '' : 's'} this model does not have (${list(unexpected)})`,
    );
  const hint = fits
    ? `: the file holds a ${fits} encoder`
    : kind === 'encoder' && ![...file.keys()].some((k) => k.startsWith('conv1.') || k.startsWith('layer1.'))
      ? ': it does not look like a torchvision ResNet state_dict'
      : '';
  return `the file's weights do not fit this model's encoder: ${parts.join('; ')}${hint}`;
}

/** The ResNet preset whose encoder has exactly these names and (input channels aside) shapes. */
function presetOf(encoder: ReadonlyMap<string, Tensor>): string | undefined {
  if (!encoder.has(INPUT_CONV)) return undefined;
  for (const name of Object.keys(RESNET_PRESETS) as (keyof typeof RESNET_PRESETS)[]) {
    const inChannels = encoder.get(INPUT_CONV)!.shape[1] as number;
    const g = resnet({ ...RESNET_PRESETS[name], inChannels }, { height: 32, width: 32 });
    const params = g.params.filter((p) => !isBatchCounter(p));
    if (
      params.length === [...encoder.keys()].filter((k) => !k.endsWith('num_batches_tracked')).length &&
      params.every((p) => {
        const t = encoder.get(p.name);
        return t !== undefined && shapesEqual(p.shape, t.shape);
      })
    )
      return name;
  }
  return undefined;
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, 3).map((n) => `'${n}'`);
  return names.length > 3 ? `${shown.join(', ')}, ...` : shown.join(', ');
}

/**
 * The training form of a graph: what "train mode" means, written into the graph so it can be
 * differentiated and lowered like any other. batchNorm becomes batchNormTrain, chained through its
 * running buffers when a shared encoder applies it twice (PyTorch updates them once per call), and
 * dropout becomes a multiply by a mask the caller feeds (0 or 1 / (1 - p)), so the backend owns the
 * random stream and a resumed run draws the same masks.
 */
import { GraphBuilder } from '../ir/builder.js';
import type { Graph, Param, Shape, Value } from '../ir/types.js';
import { opSpec } from '../ops/table.js';
import { stepNames } from './step-names.js';

export interface DropoutMask {
  /** The graph input to feed, shaped like the dropped activation. */
  readonly input: string;
  /** The activation's shape (the batch dimension symbolic). */
  readonly shape: Shape;
  readonly p: number;
}

export interface TrainingForm {
  readonly graph: Graph;
  /** Each running-statistics buffer and the output holding its value after the step. */
  readonly bufferUpdates: ReadonlyMap<string, string>;
  /** Each BatchNorm counter buffer (int64) and how many batches one step adds to it. */
  readonly counters: ReadonlyMap<string, number>;
  readonly dropoutMasks: readonly DropoutMask[];
}

export function trainingForm(graph: Graph): TrainingForm {
  const b = new GraphBuilder(graph.name);
  for (const v of graph.inputs) b.input(v.name, v.dtype, v.shape);
  const rename = new Map<string, Value>();
  const value = (name: string): Value | undefined => (name ? (rename.get(name) ?? b.value(name)) : undefined);
  for (const p of graph.params) {
    if (p.kind === 'parameter')
      b.param(p.name, p.shape as number[], p.init, { trainable: p.trainable, dtype: p.dtype });
    else b.buffer(p.name, p.shape as number[], p.init, p.dtype);
  }
  const declared = new Map(graph.params.map((p) => [p.name, p]));
  const current = new Map<string, Value>();
  const counters = new Map<string, number>();
  const dropoutMasks: DropoutMask[] = [];
  for (const node of graph.nodes) {
    const inputs = node.inputs.map(value);
    const [name, out0] = [node.name, node.outputs[0]!];
    if (node.op === 'batchNorm' && isFrozenNorm(declared, node.inputs)) {
      // A frozen BatchNorm (scale and shift not trainable) stays in eval mode, as Keras does: it
      // normalizes with its running statistics and leaves them alone, so a frozen pretrained encoder
      // sees exactly the statistics it was trained with.
      const outs = b.opMulti(node.op, inputs, node.attrs as never, name);
      node.outputs.forEach((o, i) => {
        rename.set(o, outs[i]!);
      });
    } else if (node.op === 'batchNorm') {
      const [x, w, bias, rm, rv, count] = inputs;
      const [y, , , rmOut, rvOut] = b.opMulti(
        'batchNormTrain',
        [x, w, bias, current.get(rm!.name) ?? rm, current.get(rv!.name) ?? rv],
        node.attrs,
        name,
      );
      current.set(rm!.name, rmOut!);
      current.set(rv!.name, rvOut!);
      if (count) counters.set(count.name, (counters.get(count.name) ?? 0) + 1);
      rename.set(out0, y!);
    } else if (node.op === 'dropout') {
      const { p } = opSpec('dropout').attrs(node.attrs);
      if (p === 0) {
        rename.set(out0, inputs[0]!);
      } else {
        const mask = b.input(stepNames.dropoutMask(name), 'float32', inputs[0]!.shape);
        dropoutMasks.push({ input: mask.name, shape: mask.shape, p });
        rename.set(out0, b.op('mul', [inputs[0], mask], {}, name));
      }
    } else {
      const outs = b.opMulti(node.op as never, inputs, node.attrs as never, name);
      node.outputs.forEach((o, i) => {
        rename.set(o, outs[i]!);
      });
    }
  }
  for (const o of graph.outputs) b.output(o.name, value(o.value)!);
  const bufferUpdates = new Map<string, string>();
  for (const [buffer, v] of current) {
    const outName = stepNames.next(buffer);
    b.output(outName, v);
    bufferUpdates.set(buffer, outName);
  }
  for (const [k, v] of Object.entries(graph.meta)) b.setMeta(k, v);
  return { graph: b.build(), bufferUpdates, counters, dropoutMasks };
}

/** Whether a batchNorm node's affine parameters exist and are all frozen (not trainable). */
function isFrozenNorm(declared: ReadonlyMap<string, Param>, inputs: readonly string[]): boolean {
  const affine = [inputs[1], inputs[2]].map((n) => (n ? declared.get(n) : undefined));
  return affine.every((p) => p !== undefined && p.kind === 'parameter' && !p.trainable);
}

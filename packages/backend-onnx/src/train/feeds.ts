/** Graph inputs from a batch, and the dropout masks of core's rule for a step. */
import { type Batch, type DropoutMask, dropoutMasks } from '@siamese/core';
import type { Tensor as OrtTensor } from 'onnxruntime-node';

type Ort = typeof import('onnxruntime-node');

export function batchTensor(ort: Ort, batch: Batch, name: string): OrtTensor {
  const t = batch.inputs[name];
  if (!t) throw new Error(`batch has no input '${name}' (has: ${Object.keys(batch.inputs).join(', ')})`);
  return new ort.Tensor('float32', t.data, [...t.shape]);
}

/** Feeds for `inputs`: the masks core draws for (seed, step), else the batch's tensor of that name. */
export function dataFeeds(
  ort: Ort,
  batch: Batch,
  inputs: readonly string[],
  masks: readonly DropoutMask[],
  o: { readonly seed: number; readonly step: number },
  extra: Readonly<Record<string, OrtTensor>> = {},
): Record<string, OrtTensor> {
  const drawn = dropoutMasks(masks, { ...o, batch: batch.size });
  const feeds: Record<string, OrtTensor> = {};
  for (const name of inputs) {
    const m = drawn.get(name);
    feeds[name] =
      extra[name] ?? (m ? new ort.Tensor('float32', m.data, m.shape) : batchTensor(ort, batch, name));
  }
  return feeds;
}

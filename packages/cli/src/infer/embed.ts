/** Embedding dataset items and scoring pairs of stored embeddings with the head alone. */
import type { OnnxSiamese } from '@siamese/backend-onnx';
import type { Dataset } from '@siamese/datasets';

/**
 * Embeds `indices` of `dataset` with the model's preprocessing (never augmented); row k of the
 * result [indices.length x D] is item indices[k]. Decoding runs ahead of onnxruntime.
 */
export async function embedItems(
  model: OnnxSiamese,
  dataset: Dataset,
  indices: readonly number[],
  batchSize: number,
): Promise<Float32Array> {
  const { Loader, chunks } = await import('@siamese/datasets');
  const d = model.embeddingSize;
  const out = new Float32Array(indices.length * d);
  const loader = new Loader(dataset, { preprocessing: model.preprocessing, cacheBytes: 0 });
  let row = 0;
  for await (const batch of loader.imageBatches(chunks(indices, batchSize))) {
    const e = await model.embed(batch.x);
    out.set(e.data, row * d);
    row += batch.indices.length;
  }
  return out;
}

/**
 * The head's logits for pairs (rows a[k], b[k]) of `embeddings` [N x D], in chunks so memory
 * stays bounded whatever the number of pairs.
 */
export async function headLogits(
  model: OnnxSiamese,
  embeddings: Float32Array,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  chunk = 4096,
): Promise<Float32Array> {
  const d = model.embeddingSize;
  const n = a.length;
  const out = new Float32Array(n);
  const bufA = new Float32Array(Math.min(chunk, n) * d);
  const bufB = new Float32Array(Math.min(chunk, n) * d);
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    for (let k = 0; k < m; k++) {
      const i = a[start + k]!;
      const j = b[start + k]!;
      bufA.set(embeddings.subarray(i * d, (i + 1) * d), k * d);
      bufB.set(embeddings.subarray(j * d, (j + 1) * d), k * d);
    }
    const s = await model.scoreEmbeddings(
      { dtype: 'float32', shape: [m, d], data: bufA.subarray(0, m * d) },
      { dtype: 'float32', shape: [m, d], data: bufB.subarray(0, m * d) },
    );
    out.set(s.logit, start);
  }
  return out;
}

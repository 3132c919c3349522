/**
 * The embeddings file `siamese embed` writes and `siamese search` and `siamese serve` read:
 * safetensors (atomic writes) with one float32 tensor `embeddings` [N, D] and, in the header's
 * metadata, the items (id, file, class) row by row and the fingerprint of the model that embedded
 * them. Node only (hashing and files).
 */
import { createHash } from 'node:crypto';
import type { ModelArtifact } from '../artifact/model.js';
import type { Tensor } from '../tensor/tensor.js';
import { WeightsError } from '../weights/errors.js';
import { loadWeights, saveWeights } from '../weights/file.js';

export const EMBEDDINGS_FORMAT = 'siamese-embeddings';
export const EMBEDDINGS_FORMAT_VERSION = 1;
export const EMBEDDINGS_TENSOR = 'embeddings';

export interface EmbeddedItem {
  /** Stable id within the source (a path relative to its folder, `mnist/7/0042`). */
  readonly id: string;
  /** The image file, for file sources. */
  readonly path?: string;
  /** The class name, when the source has classes. */
  readonly class?: string;
}

export interface EmbeddingsIndex {
  /** [N, D], row i embeds items[i]. */
  readonly embeddings: Tensor<'float32'>;
  readonly items: readonly EmbeddedItem[];
  /** modelFingerprint() of the model that embedded them. */
  readonly model: string;
  /** The source's name (folder, CSV or `mnist`). */
  readonly dataset: string;
}

/**
 * What identifies a model's embeddings: its configuration, preprocessing, every weight and, for an
 * int8 model, its quantized encoder, hashed.
 * An index embedded by another model (or another training run) does not match.
 */
export function modelFingerprint(artifact: ModelArtifact): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(artifact.config));
  h.update(JSON.stringify(artifact.preprocessing));
  for (const [name, t] of [...artifact.weights].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    h.update(`${name}:${t.dtype}:${t.shape.join(',')};`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  // An int8 model embeds with its quantized encoder: not the same embeddings as its fp32 weights'.
  if (artifact.quantization) h.update(artifact.quantization.onnx.encoder);
  return h.digest('hex');
}

export async function saveEmbeddings(path: string, index: EmbeddingsIndex): Promise<void> {
  const [n, d] = index.embeddings.shape;
  if (index.embeddings.shape.length !== 2 || n !== index.items.length) {
    throw new Error(
      `embeddings [${index.embeddings.shape.join(',')}] do not match ${index.items.length} items`,
    );
  }
  await saveWeights(path, [[EMBEDDINGS_TENSOR, index.embeddings]], {
    format: EMBEDDINGS_FORMAT,
    formatVersion: String(EMBEDDINGS_FORMAT_VERSION),
    model: index.model,
    dataset: index.dataset,
    embeddingSize: String(d),
    items: JSON.stringify(index.items),
  });
}

function bad(path: string, what: string): WeightsError {
  return new WeightsError(`index: ${path}: ${what}`, path);
}

function isItem(v: unknown): v is EmbeddedItem {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    (r.path === undefined || typeof r.path === 'string') &&
    (r.class === undefined || typeof r.class === 'string')
  );
}

/** Reads and checks an embeddings file; every problem is one line naming it. */
export async function loadEmbeddings(path: string): Promise<EmbeddingsIndex> {
  let file: Awaited<ReturnType<typeof loadWeights>>;
  try {
    file = await loadWeights(path);
  } catch (e) {
    if (e instanceof WeightsError) {
      throw new WeightsError(e.message.replace(/^weights: /, 'index: '), path, undefined, { cause: e });
    }
    throw e;
  }
  const m = file.metadata;
  if (m.format !== EMBEDDINGS_FORMAT) {
    throw bad(
      path,
      `not an embeddings file from 'siamese embed' (format is ${JSON.stringify(m.format ?? null)})`,
    );
  }
  if (m.formatVersion !== String(EMBEDDINGS_FORMAT_VERSION)) {
    throw bad(path, `formatVersion ${m.formatVersion}; this version reads ${EMBEDDINGS_FORMAT_VERSION}`);
  }
  const t = file.tensors.get(EMBEDDINGS_TENSOR);
  if (t?.dtype !== 'float32' || t.shape.length !== 2) {
    throw bad(path, `needs a float32 tensor '${EMBEDDINGS_TENSOR}' [N, D]`);
  }
  let items: unknown;
  try {
    items = JSON.parse(m.items ?? 'null');
  } catch {
    items = null;
  }
  if (!Array.isArray(items) || !items.every(isItem))
    throw bad(path, "metadata 'items' is not a list of items");
  if (items.length !== t.shape[0]) {
    throw bad(path, `has ${t.shape[0]} embeddings but ${items.length} items`);
  }
  return {
    embeddings: t as Tensor<'float32'>,
    items,
    model: m.model ?? '',
    dataset: m.dataset ?? '',
  };
}

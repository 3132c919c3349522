/**
 * The embeddings file `siamese embed` writes and `siamese search` reads. The format lives in core
 * (`siamese serve` reads and writes it too); re-exported here for the commands.
 */
export {
  EMBEDDINGS_FORMAT,
  EMBEDDINGS_FORMAT_VERSION,
  EMBEDDINGS_TENSOR,
  type EmbeddedItem,
  type EmbeddingsIndex,
  loadEmbeddings,
  modelFingerprint,
  saveEmbeddings,
} from '@siamese/core';

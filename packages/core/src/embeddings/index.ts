export {
  EMBEDDINGS_FORMAT,
  EMBEDDINGS_FORMAT_VERSION,
  EMBEDDINGS_TENSOR,
  type EmbeddedItem,
  type EmbeddingsIndex,
  loadEmbeddings,
  modelFingerprint,
  saveEmbeddings,
} from './file.js';

/**
 * @siamese/gallery: search a gallery of enrolled images at scale. An approximate-nearest-neighbour
 * index (usearch's HNSW, loaded on first use) over encoder embeddings finds candidates; the model's
 * own head re-ranks them. A brute-force gallery over `siamese embed`'s embeddings file implements
 * the same small interface, and so can a vector database. No side effects on import.
 */

export { BruteForceGallery, type BruteForceOptions } from './brute-force.js';
export {
  type AddOptions,
  type Candidate,
  checkModel,
  GalleryError,
  type GalleryIndex,
  type GalleryInfo,
  type GalleryItem,
  METRICS,
  type Metric,
} from './gallery.js';
export { type OpenOptions, openGallery } from './open.js';
export { distance, type SearchPlan, searchPlan, smallest } from './plan.js';
export {
  DEFAULT_CANDIDATES_PER_MATCH,
  type EmbeddingScorer,
  type HeadScorer,
  headScorer,
  type Match,
  recallAtK,
  searchGallery,
  type TwoStageOptions,
} from './two-stage.js';
export {
  type AnnOptions,
  GALLERY_FILES,
  GALLERY_FORMAT,
  GALLERY_FORMAT_VERSION,
  UsearchGallery,
  type UsearchGalleryOptions,
} from './usearch-gallery.js';
export { QUANTIZATIONS, type Quantization, USEARCH_VERSION } from './usearch-native.js';

/**
 * @siamese/datasets: image folders, Omniglot trees, pair lists and MNIST as pairs, triplets and
 * one-shot episodes; decoding with sharp (loaded on first use), augmentation, a prefetching loader
 * with a memory-bounded cache, seeded splits with manifests, and lint. No side effects on import.
 */

export { chunks, take } from './batch-lists.js';
export type { BatchOptions, ImageBatch, PairBatch, TripletBatch } from './batch-types.js';
export { DEFAULT_CACHE_BYTES, ImageCache } from './cache.js';
export {
  classCounts,
  type Dataset,
  type DatasetWarning,
  type Item,
  indicesByClass,
  itemName,
  type Pair,
  type RawPixels,
  subset,
} from './dataset.js';
export {
  DEFAULT_PIXEL_LIMIT,
  type DecodedImage,
  type DecodeOptions,
  decodeImage,
  decodeImageBytes,
  decodeItem,
  IMAGE_EXTENSIONS,
  type ImageInfo,
  loadSharp,
  probeImage,
  verifyImage,
} from './decode.js';
export {
  type Episode,
  type EpisodeOptions,
  EpisodeSampler,
  episodeCorrect,
  episodePairs,
  episodes,
  type WithinGroupOptions,
  type WithinGroupRuns,
  withinGroupEpisodes,
} from './episodes.js';
export { DatasetError, type DatasetErrorCode } from './errors.js';
export {
  formatLint,
  type LintCode,
  type LintIssue,
  type LintOptions,
  type LintReport,
  lint,
} from './lint.js';
export { Loader, type LoaderOptions, type LoaderStats } from './loader.js';
export { type MPerClassOptions, MPerClassSampler } from './samplers/m-per-class.js';
export { ListedPairs, PairSampler, type PairSamplerOptions, samplePairs } from './samplers/pairs.js';
export {
  type Embeddings,
  type SemiHardOptions,
  semiHardTriplets,
  type Triplet,
  TripletSampler,
} from './samplers/triplets.js';
export type { CheckLevel, FileSourceOptions } from './sources/files.js';
export { type ImageFolderOptions, imageFolder, OMNIGLOT_DRAWER } from './sources/image-folder.js';
export { MNIST_SIZE, type MnistOptions, mnist } from './sources/mnist.js';
export { type PairListDataset, type PairListOptions, pairList, parseCsvLine } from './sources/pair-list.js';
export {
  applyManifest,
  partSizes,
  readManifest,
  SPLIT_FORMAT,
  SPLIT_FORMAT_VERSION,
  SPLIT_PARTS,
  type Split,
  type SplitBy,
  type SplitFractions,
  type SplitManifest,
  type SplitOptions,
  type SplitPart,
  splitDataset,
  writeManifest,
} from './split.js';
export { type Affine, affineMatrix, invertAffine } from './transforms/affine.js';
export { applyAugment, applyGeometry, augmentImage } from './transforms/augment.js';
export { type AugmentOptions, checkAugment, KOCH_AFFINE, LIGHTING } from './transforms/augment-options.js';
export { type AugmentParams, IDENTITY, isGeometric, sampleAugment } from './transforms/augment-params.js';
export { adjustLighting, lightingNormalize } from './transforms/lighting.js';
export {
  checkedPreprocessing,
  decodeOptionsFor,
  denormalize,
  normalize,
  preprocessingFor,
  toPlanar,
  toPlanarNormalized,
} from './transforms/resize-normalize.js';
export { warpAffine } from './transforms/warp-affine.js';

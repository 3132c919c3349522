/**
 * @siamese/datasets: image folders, Omniglot trees, pair lists and MNIST as pairs, triplets and
 * one-shot episodes; decoding with sharp (loaded on first use), augmentation, a prefetching loader
 * with a memory-bounded cache, seeded splits with manifests, and lint. No side effects on import.
 */

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
export {
  type BatchOptions,
  chunks,
  type ImageBatch,
  Loader,
  type LoaderOptions,
  type LoaderStats,
  type PairBatch,
  type TripletBatch,
  take,
} from './loader.js';
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
export {
  type Affine,
  type AugmentOptions,
  type AugmentParams,
  adjustLighting,
  affineMatrix,
  applyAugment,
  applyGeometry,
  augmentImage,
  checkAugment,
  IDENTITY,
  invertAffine,
  isGeometric,
  KOCH_AFFINE,
  LIGHTING,
  lightingNormalize,
  sampleAugment,
  warpAffine,
} from './transforms/augment.js';
export {
  checkedPreprocessing,
  decodeOptionsFor,
  denormalize,
  normalize,
  preprocessingFor,
  toPlanar,
  toPlanarNormalized,
} from './transforms/resize-normalize.js';

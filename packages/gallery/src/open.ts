/**
 * Opening a gallery from a path: a folder is an ANN gallery (usearch), a file is an embeddings file
 * from `siamese embed` (searched exactly, by brute force).
 */
import { stat } from 'node:fs/promises';
import { readFolder } from '@siamese/core';
import { BruteForceGallery } from './brute-force.js';
import { GalleryError, type Metric } from './gallery.js';
import { type AnnOptions, UsearchGallery } from './usearch-gallery.js';

export interface OpenOptions extends Pick<AnnOptions, 'expansionSearch' | 'threads'> {
  /** How an embeddings file is compared (it does not say); an ANN folder keeps its own. Default l2. */
  readonly metric?: Metric;
}

export async function openGallery(
  path: string,
  options: OpenOptions = {},
): Promise<UsearchGallery | BruteForceGallery> {
  // Between two steps of `siamese index add`'s swap the folder is briefly absent: readFolder waits.
  const s = await readFolder(path, (p) => stat(p)).catch(() => undefined);
  if (s === undefined) throw new GalleryError(`gallery ${path}: no such file or folder`);
  if (s.isDirectory()) {
    const { metric: _, ...ann } = options;
    return UsearchGallery.load(path, ann);
  }
  return BruteForceGallery.load(path, options.metric);
}

/**
 * `imageFolder(root)`: a folder per class (`root/<class>/**\/*.png`), or the Omniglot layout
 * (`root/<alphabet>/<character>/*.png`) where the class is the leaf folder and the alphabet is kept
 * as the item's group, for within-alphabet episodes and negatives.
 */
import { join, resolve } from 'node:path';
import type { Dataset, DatasetWarning, Item } from '../dataset.js';
import { IMAGE_EXTENSIONS } from '../decode.js';
import { datasetError } from '../errors.js';
import {
  checkFiles,
  type FileSourceOptions,
  imageFilesUnder,
  isImageName,
  listFolder,
  requireFolder,
} from './files.js';

export interface ImageFolderOptions extends FileSourceOptions {
  /**
   * `classes`: root/<class>/images. `groups`: root/<group>/<class>/images (Omniglot).
   * `auto` (default): `classes` when a top folder holds images itself, else `groups`.
   */
  readonly layout?: 'auto' | 'classes' | 'groups';
  /**
   * Reads the drawer from a file name; the first capture group is the drawer.
   * Default: Omniglot's `<character>_<drawer>.png`. `null` turns it off.
   */
  readonly drawerPattern?: RegExp | null;
  /** Name for messages and manifests. Default: the root as given. */
  readonly name?: string;
}

export const OMNIGLOT_DRAWER = /_(\d+)\.[A-Za-z0-9]+$/;

interface ClassFolder {
  readonly className: string;
  readonly group?: string;
  /** Relative to the root, POSIX separators. */
  readonly folder: string;
}

async function hasImages(dir: string, extensions: readonly string[]): Promise<boolean> {
  const { files } = await listFolder(dir);
  return files.some((f) => isImageName(f, extensions));
}

export async function imageFolder(root: string, options: ImageFolderOptions = {}): Promise<Dataset> {
  const name = options.name ?? root;
  const abs = resolve(root);
  await requireFolder(abs, 'dataset folder');
  const extensions = options.extensions ?? IMAGE_EXTENSIONS;
  const warnings: DatasetWarning[] = [];
  const warn = (w: DatasetWarning) => {
    warnings.push(w);
    options.onWarning?.(w);
  };
  const ignored = (rel: string) =>
    warn({
      code: 'ignored-file',
      file: join(abs, rel),
      message: `dataset: ${join(abs, rel)}: not an image file name (${extensions.join(' ')}), ignored`,
    });

  const outside = (rel: string) =>
    warn({
      code: 'ignored-file',
      file: join(abs, rel),
      message: `dataset: ${join(abs, rel)}: image outside any class folder, ignored`,
    });

  const top = await listFolder(abs);
  for (const f of top.files) if (isImageName(f, extensions)) outside(f);
  if (top.folders.length === 0) {
    throw datasetError('empty', 'dataset folder has no class folders (expected <class>/<image> inside)', abs);
  }

  let layout = options.layout ?? 'auto';
  if (layout === 'auto') {
    const direct = await Promise.all(top.folders.map((f) => hasImages(join(abs, f), extensions)));
    layout = direct.some(Boolean) ? 'classes' : 'groups';
  }

  const classFolders: ClassFolder[] = [];
  if (layout === 'classes') {
    for (const f of top.folders) classFolders.push({ className: f, folder: f });
  } else {
    for (const group of top.folders) {
      const inner = await listFolder(join(abs, group));
      for (const f of inner.files) {
        if (isImageName(f, extensions)) outside(`${group}/${f}`);
        else ignored(`${group}/${f}`);
      }
      for (const c of inner.folders)
        classFolders.push({ className: `${group}/${c}`, group, folder: `${group}/${c}` });
    }
  }

  const drawerPattern = options.drawerPattern === undefined ? OMNIGLOT_DRAWER : options.drawerPattern;
  const candidates: { rel: string; folder: ClassFolder }[] = [];
  for (const folder of classFolders) {
    const files = await imageFilesUnder(join(abs, folder.folder), extensions, (rel) =>
      ignored(`${folder.folder}/${rel}`),
    );
    if (files.length === 0) {
      warn({
        code: 'empty-class',
        file: join(abs, folder.folder),
        message: `dataset: ${join(abs, folder.folder)}: class folder has no images, ignored`,
      });
    }
    for (const rel of files) candidates.push({ rel: `${folder.folder}/${rel}`, folder });
  }
  if (candidates.length === 0) {
    throw datasetError(
      'empty',
      `dataset folder has no images (looked for ${extensions.join(' ')} in ${layout === 'groups' ? '<group>/<class>/' : '<class>/'} folders)`,
      abs,
    );
  }

  const ok = await checkFiles(
    candidates.map((c) => join(abs, c.rel)),
    options,
    warn,
  );
  const valid = candidates.filter((_, i) => ok[i]);
  const validClasses = new Set(valid.map((c) => c.folder.className));
  for (const folder of new Set(candidates.map((c) => c.folder))) {
    if (!validClasses.has(folder.className)) {
      warn({
        code: 'empty-class',
        file: join(abs, folder.folder),
        message: `dataset: ${join(abs, folder.folder)}: every image of class '${folder.className}' was invalid; class left out`,
      });
    }
  }
  // A class is a folder with at least one valid image; labels follow the sorted folder order.
  const classes = [...new Set(valid.map((c) => c.folder.className))];
  const label = new Map(classes.map((c, i) => [c, i]));
  const items: Item[] = valid.map(({ rel, folder }) => {
    const drawer = folder.group !== undefined && drawerPattern ? drawerPattern.exec(rel)?.[1] : undefined;
    return {
      id: rel,
      path: join(abs, rel),
      label: label.get(folder.className) as number,
      className: folder.className,
      ...(folder.group !== undefined ? { group: folder.group } : {}),
      ...(drawer !== undefined ? { drawer } : {}),
    };
  });
  if (items.length === 0) {
    throw datasetError('empty', 'dataset folder has no valid images (every one was skipped as invalid)', abs);
  }
  const counts = new Map<string, number>();
  for (const it of items) counts.set(it.className, (counts.get(it.className) ?? 0) + 1);
  for (const [className, n] of counts) {
    if (n === 1) {
      const only = items.find((it) => it.className === className);
      warn({
        code: 'single-image-class',
        ...(only?.path ? { file: only.path } : {}),
        message: `dataset: class '${className}' has one image (${only?.id}): it cannot give a positive pair`,
      });
    }
  }
  const groups = layout === 'groups' ? [...new Set(items.map((it) => it.group as string))] : undefined;
  return { name, classes, items, ...(groups ? { groups } : {}), warnings };
}

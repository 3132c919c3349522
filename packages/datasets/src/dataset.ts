/** What every source produces: items with a class, optionally a group, and a way to get their pixels. */

/** 8-bit pixels in memory, interleaved (HWC), as MNIST ships them or as decoded. */
export interface RawPixels {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Uint8Array;
}

export interface Item {
  /** Unique within the dataset and stable across runs: a POSIX path relative to the root, or `mnist/7/0042`. */
  readonly id: string;
  /** The image file (absolute), for file sources. */
  readonly path?: string;
  /** The pixels, for in-memory sources (MNIST). */
  readonly pixels?: RawPixels;
  /** Class index into `Dataset.classes`. */
  readonly label: number;
  readonly className: string;
  /** The group (an Omniglot alphabet) for within-group episodes and negatives. */
  readonly group?: string;
  /** Who drew it (Omniglot's `<character>_<drawer>.png`), for the within-alphabet protocol. */
  readonly drawer?: string;
}

/** A problem that did not stop the source: a skipped file, a class that cannot give a positive pair. */
export interface DatasetWarning {
  readonly code:
    | 'invalid-image'
    | 'pixel-limit'
    | 'not-found'
    | 'single-image-class'
    | 'empty-class'
    | 'ignored-file';
  readonly file?: string;
  readonly message: string;
}

export interface Dataset {
  /** For messages and manifests: the folder, the CSV or `mnist`. */
  readonly name: string;
  /** Every class of the source, indexed by `Item.label`. A split's parts keep the full list. */
  readonly classes: readonly string[];
  readonly items: readonly Item[];
  /** The groups present, when the layout has them (Omniglot alphabets). */
  readonly groups?: readonly string[];
  readonly warnings: readonly DatasetWarning[];
}

/** A labelled pair of item indices; `same` is 1 for the same class. */
export interface Pair {
  readonly a: number;
  readonly b: number;
  readonly same: 0 | 1;
}

/** Item indices per class label, ascending; classes without items are absent. */
export function indicesByClass(dataset: Dataset): Map<number, number[]> {
  const out = new Map<number, number[]>();
  dataset.items.forEach((item, i) => {
    const list = out.get(item.label);
    if (list) list.push(i);
    else out.set(item.label, [i]);
  });
  return out;
}

/** A dataset made of some of another's items (in the order given); classes are kept whole. */
export function subset(dataset: Dataset, indices: readonly number[], name = dataset.name): Dataset {
  const items = indices.map((i) => {
    const item = dataset.items[i];
    if (!item) throw new RangeError(`subset: index ${i} is outside the ${dataset.items.length} items`);
    return item;
  });
  const groups = dataset.groups
    ? [...new Set(items.map((it) => it.group ?? ''))].filter(Boolean).sort()
    : undefined;
  return { name, classes: dataset.classes, items, ...(groups ? { groups } : {}), warnings: [] };
}

/** The class-name → item-count table, for messages and lint. */
export function classCounts(dataset: Dataset): Map<number, number> {
  const counts = new Map<number, number>();
  for (const item of dataset.items) counts.set(item.label, (counts.get(item.label) ?? 0) + 1);
  return counts;
}

/** A short name for an item in messages: its path, or its id. */
export function itemName(item: Item): string {
  return item.path ?? item.id;
}

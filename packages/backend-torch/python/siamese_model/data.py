"""The data sources siamese trains on, read the same way: an image folder (a folder per class, or
Omniglot's alphabet/character tree) split into train/val/test parts recorded in a siamese split
manifest, pairs sampled half same, half different, and CSV lists of labelled pairs ``a,b,label``.
"""

import csv
import json
import os
import random

# siamese's IMAGE_EXTENSIONS (@siamese/datasets; a test keeps the two lists equal).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff")
LABELS = {"1": 1, "0": 0, "same": 1, "different": 0, "true": 1, "false": 0, "yes": 1, "no": 0}
SPLIT_PARTS = ("train", "val", "test")


class Items:
    """Images with their class: ids are POSIX paths relative to the root, as siamese names them."""

    def __init__(self, root, ids, labels, classes):
        self.root = root
        self.ids = ids
        self.labels = labels
        self.classes = classes

    def path(self, i):
        return os.path.join(self.root, *self.ids[i].split("/"))

    def subset(self, indices):
        return Items(
            self.root,
            [self.ids[i] for i in indices],
            [self.labels[i] for i in indices],
            self.classes,
        )

    def __len__(self):
        return len(self.ids)


def _images_under(folder, prefix):
    names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    out = []
    for name in names:
        full = os.path.join(folder, name)
        if os.path.isdir(full):
            out.extend(_images_under(full, f"{prefix}{name}/"))
        elif name.lower().endswith(IMAGE_EXTENSIONS):
            out.append(prefix + name)
    return out


def image_folder(root):
    """A folder per class (images at any depth below it belong to it); classes in sorted order.

    Omniglot's alphabet/character tree (a folder of folders of images) makes each character a class.
    """
    root = os.path.abspath(root)
    tops = sorted(
        n
        for n in os.listdir(root)
        if os.path.isdir(os.path.join(root, n)) and not n.startswith(".")
    )
    nested = tops and all(
        not any(n.lower().endswith(IMAGE_EXTENSIONS) for n in os.listdir(os.path.join(root, t)))
        for t in tops
    )
    folders = (
        [
            f"{t}/{c}"
            for t in tops
            for c in sorted(os.listdir(os.path.join(root, t)))
            if os.path.isdir(os.path.join(root, t, c))
        ]
        if nested
        else tops
    )
    ids, labels, classes = [], [], []
    for folder in folders:
        files = _images_under(os.path.join(root, *folder.split("/")), f"{folder}/")
        if not files:
            continue
        classes.append(folder)
        ids.extend(files)
        labels.extend([len(classes) - 1] * len(files))
    if len(classes) < 2:
        raise ValueError(
            f"{root}: needs at least two class folders of images, found {len(classes)}"
        )
    return Items(root, ids, labels, classes)


def part_sizes(n, fractions):
    """How many of n go to each part: largest remainder, every non-empty share at least one."""
    exact = [fractions[p] * n for p in SPLIT_PARTS]
    sizes = [int(e) for e in exact]
    order = sorted(range(3), key=lambda i: exact[i] - sizes[i], reverse=True)
    for i in order[: n - sum(sizes)]:
        sizes[i] += 1
    for i in (1, 2):
        if fractions[SPLIT_PARTS[i]] > 0 and sizes[i] == 0 and sizes[0] > 1:
            sizes[i] += 1
            sizes[0] -= 1
    return dict(zip(SPLIT_PARTS, sizes))


def split_by_image(items, seed, fractions):
    """Every class split by its images (closed set), as ``siamese train --split-by image``: a
    siamese split manifest."""
    rng = random.Random(seed)
    parts = {p: [] for p in SPLIT_PARTS}
    by_class = {}
    for i, label in enumerate(items.labels):
        by_class.setdefault(label, []).append(i)
    for label in sorted(by_class):
        members = by_class[label]
        rng.shuffle(members)
        sizes = part_sizes(len(members), fractions)
        start = 0
        for p in SPLIT_PARTS:
            parts[p].extend(members[start : start + sizes[p]])
            start += sizes[p]
    counts = {
        p: {"items": len(parts[p]), "classes": len({items.labels[i] for i in parts[p]})}
        for p in SPLIT_PARTS
    }
    return {
        "format": "siamese-split",
        "formatVersion": 1,
        "dataset": items.root,
        "by": "image",
        "seed": seed,
        "fractions": fractions,
        "counts": counts,
        "parts": {p: [items.ids[i] for i in parts[p]] for p in SPLIT_PARTS},
    }


def read_manifest(path):
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("format") != "siamese-split":
        raise ValueError(f"{path}: not a siamese split manifest")
    return manifest


def apply_manifest(items, manifest, source):
    """The train, val and test Items of a manifest; every id must be in the folder."""
    index = {id_: i for i, id_ in enumerate(items.ids)}
    out = {}
    for p in SPLIT_PARTS:
        missing = [id_ for id_ in manifest["parts"][p] if id_ not in index]
        if missing:
            raise ValueError(f"{source}: {p} item '{missing[0]}' is not in {items.root}")
        out[p] = items.subset([index[id_] for id_ in manifest["parts"][p]])
    return out


class PairSampler:
    """Pairs of one part, alternately same and different: a same pair picks a class uniformly among
    those with two images and two distinct images of it; a different pair two distinct classes."""

    def __init__(self, items, seed):
        self.items = items
        self.rng = random.Random(seed)
        by_class = {}
        for i, label in enumerate(items.labels):
            by_class.setdefault(label, []).append(i)
        self.by_class = by_class
        self.classes = sorted(by_class)
        self.positive = [c for c in self.classes if len(by_class[c]) >= 2]
        if not self.positive or len(self.classes) < 2:
            raise ValueError("pairs need a class with two images and at least two classes")
        self.count = 0

    def next(self, n):
        pairs = []
        for _ in range(n):
            if self.count % 2 == 0:
                members = self.by_class[self.rng.choice(self.positive)]
                a, b = self.rng.sample(members, 2)
                pairs.append((a, b, 1))
            else:
                ca, cb = self.rng.sample(self.classes, 2)
                pairs.append(
                    (self.rng.choice(self.by_class[ca]), self.rng.choice(self.by_class[cb]), 0)
                )
            self.count += 1
        return pairs


def pair_csv(path):
    """Labelled pairs ``a,b,label`` (paths relative to the CSV; a header row is optional) as
    (Items, [(a, b, label)])."""
    root = os.path.dirname(os.path.abspath(path))
    ids, index, pairs = [], {}, []
    with open(path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.reader(f)):
            if not row or all(not c.strip() for c in row):
                continue
            a, b, label = (c.strip() for c in row[:3])
            if label.lower() not in LABELS:
                if n == 0:
                    continue
                raise ValueError(
                    f"{path}:{n + 1}: label '{label}' is not "
                    "1/0, same/different, true/false, yes/no"
                )
            for name in (a, b):
                if name not in index:
                    index[name] = len(ids)
                    ids.append(name)
            pairs.append((index[a], index[b], LABELS[label.lower()]))
    classes = sorted({i.rsplit("/", 1)[0] if "/" in i else "." for i in ids})
    labels = [classes.index(i.rsplit("/", 1)[0] if "/" in i else ".") for i in ids]
    return Items(root, ids, labels, classes), pairs

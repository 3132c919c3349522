"""PyTorch reference for bench/identity-loss: do identity-classification losses with margins
(NormFace, CosFace, ArcFace) learn where classic pair losses (BCE on a Siamese head, contrastive,
triplet) stay at chance? Trains resnet18_w16 on an image folder (tools/make-hard-digits.mjs) and
prints one JSON line per epoch: train loss, validation pair AUC, open-set pair AUC on held-out
classes, seconds.

  /usr/bin/python3 bench/identity-loss/torch_ref.py --data /tmp/hard-digits --loss cosface --epochs 8

Protocol (mirrors `siamese train --holdout-classes 3 --split-by image --seed S`):
- classes are the folder names in sorted order; the last --holdout-classes of them (7, 8, 9 for the
  digits) are never trained on and give the open-set pairs;
- every other class's images are shuffled (seeded) and cut 80/10/10 (largest remainder: 160 ->
  128/16/16) into train/val/test. The shuffle is numpy's, not @siamese/datasets', so the images in
  each part differ from the CLI's; --split-from RUN_DIR reads the CLI's OUT/split.json and
  OUT/split-openset.json instead, for exactly the CLI's parts.
- preprocessing: the PNG's RGB / 255, then ImageNet mean/std (the CLI's default for 3 channels);
  --norm pm1 gives [-1, 1] instead. No augmentation (the CLI's default --augment none).
- encoder: resnet18_w16 = torchvision's ResNet-18 (BasicBlock, [2, 2, 2, 2], 7x7/2 stem, 3x3/2
  max pool) with base width 16 (stages 16/32/64/128), no fc; torchvision's module names and init.
  The embedding is the 128-d global-average-pooled feature.
- identity losses: a cosine classifier over the training classes (Xavier-uniform weight [C, 128]),
  logits s * cos with CosFace's cos - m / ArcFace's cos(theta + m) (threshold rule) on the true
  class, softmax cross-entropy. An epoch is one pass over the training images in seeded shuffled
  batches of --batch-size (default 64; the last partial batch is dropped), or, with
  --sampler m-per-class, len(train) / batch batches of batch/m classes x m images.
- pair losses: the Siamese network; bce: |f1 - f2| -> Linear(128, 1023) -> ReLU -> Dropout(0.5)
  -> Linear(1023, 1) logit, BCE-with-logits; contrastive: euclidean distance,
  mean(y d^2 + (1 - y) max(margin - d, 0)^2) / 2, margin 1; triplet: TripletMarginLoss(margin 1).
  An epoch is --pairs-per-epoch (default 8,000, the CLI's) pairs / triplets in batches of
  --pair-batch-size (default 32), half same, half different, sampled like @siamese/datasets'
  PairSampler (positive: a uniform class, two distinct images; negative: two distinct uniform
  classes, one image each); the encoder runs on x1 and x2 separately.
- optimizer Adam, --lr 1e-3, constant (--schedule cosine: the CLI's linear warm-up over
  min(100, steps per epoch) steps, then cosine to 5%).
- evaluation (model.eval(), after each epoch): --val-pairs (2,000) fixed balanced pairs from the
  validation images and as many from the held-out classes' images, scored by cosine similarity of
  the embeddings (identity losses), sigmoid of the head's logit (bce) or minus the euclidean
  distance (contrastive, triplet); ROC AUC by ranks (ties averaged).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.models.resnet import BasicBlock

# The parity fixture's ResNet builder (tools/reference), one definition for every reference script.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "reference"))
from parity_fixture import ResNet as TorchvisionResNet  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IDENTITY = {"normface": (30.0, 0.0), "cosface": (30.0, 0.35), "arcface": (30.0, 0.5)}
PAIR = ("bce", "contrastive", "triplet")
EXTS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff")


# ----------------------------------------------------------------------------- model
def resnet_encoder(base_width=16, in_channels=3):
    """resnet18_w16: the parity fixture's torchvision ResNet without fc (torchvision's own
    _make_layer, init and module names) at base width 16; `out_features` is the embedding width."""
    encoder = TorchvisionResNet(BasicBlock, [2, 2, 2, 2], width=base_width, in_channels=in_channels)
    encoder.out_features = base_width * 8 * BasicBlock.expansion
    return encoder


class IdentityModel(nn.Module):
    def __init__(self, kind, classes, scale, margin):
        super().__init__()
        self.encoder = resnet_encoder()
        d = self.encoder.out_features
        self.classifier = nn.Linear(d, classes, bias=False)
        bound = math.sqrt(6 / (classes + d))  # Xavier-uniform
        nn.init.uniform_(self.classifier.weight, -bound, bound)
        self.kind, self.scale, self.margin = kind, scale, margin

    def loss(self, x, labels):
        cos = F.linear(F.normalize(self.encoder(x), dim=1), F.normalize(self.classifier.weight, dim=1))
        onehot = F.one_hot(labels, cos.shape[1]).bool()
        if self.kind == "cosface":
            target = cos - self.margin
        elif self.kind == "arcface":
            m = self.margin
            sin = torch.sqrt((1 - cos * cos).clamp(min=0))
            phi = cos * math.cos(m) - sin * math.sin(m)
            # threshold rule (insightface): past theta + m > pi fall back to cos - m sin(m)
            target = torch.where(cos > math.cos(math.pi - m), phi, cos - math.sin(math.pi - m) * m)
        else:
            target = cos
        logits = self.scale * torch.where(onehot, target, cos)
        return F.cross_entropy(logits, labels)

    @torch.no_grad()
    def pair_scores(self, emb1, emb2):
        return F.cosine_similarity(emb1, emb2, dim=1)


class PairModel(nn.Module):
    def __init__(self, kind, margin):
        super().__init__()
        self.encoder = resnet_encoder()
        d = self.encoder.out_features
        self.kind, self.margin = kind, margin
        if kind == "bce":
            self.head = nn.Sequential(nn.Linear(d, 1023), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1023, 1))

    def loss(self, xs, labels):
        if self.kind == "triplet":
            a, p, n = (self.encoder(x) for x in xs)
            return F.triplet_margin_loss(a, p, n, margin=self.margin)
        f1, f2 = self.encoder(xs[0]), self.encoder(xs[1])
        y = labels.float()
        if self.kind == "bce":
            return F.binary_cross_entropy_with_logits(self.head(torch.abs(f1 - f2)).squeeze(1), y)
        d = torch.sqrt(((f1 - f2) ** 2).sum(1) + 1e-12)
        return (y * d * d + (1 - y) * (self.margin - d).clamp(min=0) ** 2).mean() / 2

    @torch.no_grad()
    def pair_scores(self, emb1, emb2):
        if self.kind == "bce":
            return torch.sigmoid(self.head(torch.abs(emb1 - emb2)).squeeze(1))
        return -torch.sqrt(((emb1 - emb2) ** 2).sum(1))


# ----------------------------------------------------------------------------- data
def load_folder(root, norm):
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    ids, labels, arrays = [], [], []
    for k, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, c))):
            if not f.lower().endswith(EXTS):
                continue
            with Image.open(os.path.join(root, c, f)) as im:
                arrays.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
            ids.append(f"{c}/{f}")
            labels.append(k)
    x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 255
    if norm == "imagenet":
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    else:
        mean, std = 0.5, 0.5
    return classes, ids, np.array(labels), ((x - mean) / std).contiguous()


def part_sizes(n, fractions=(0.8, 0.1, 0.1)):
    """@siamese/datasets' partSizes: largest remainder, then val/test get one when they can."""
    exact = [f * n for f in fractions]
    sizes = [math.floor(e) for e in exact]
    left = n - sum(sizes)
    for i in sorted(range(3), key=lambda i: (-(exact[i] - sizes[i]), i)):
        if left <= 0:
            break
        sizes[i] += 1
        left -= 1
    for i in (2, 1):
        if fractions[i] > 0 and sizes[i] == 0 and sizes[0] > 1:
            sizes[i], sizes[0] = 1, sizes[0] - 1
    return sizes


def split(classes, ids, labels, a):
    if a.split_from:
        with open(os.path.join(a.split_from, "split.json")) as f:
            parts = json.load(f)["parts"]
        with open(os.path.join(a.split_from, "split-openset.json")) as f:
            parts["openset"] = json.load(f)["parts"]["test"]
        index = {s: i for i, s in enumerate(ids)}
        out = {p: np.array([index[s] for s in parts[p]]) for p in ("train", "val", "test", "openset")}
        held = sorted(set(labels[out["openset"]].tolist()))
    else:
        n = len(classes)
        if a.holdout == "last":
            held = list(range(n - a.holdout_classes, n))
        else:
            held = sorted(np.random.default_rng(a.seed).choice(n, a.holdout_classes, replace=False).tolist())
        out = {"train": [], "val": [], "test": [], "openset": []}
        for k in range(n):
            members = np.flatnonzero(labels == k)
            if k in held:
                out["openset"].extend(members.tolist())
                continue
            members = np.random.default_rng([a.seed, k]).permutation(members)
            tr, va, _ = part_sizes(len(members))
            out["train"].extend(members[:tr].tolist())
            out["val"].extend(members[tr : tr + va].tolist())
            out["test"].extend(members[tr + va :].tolist())
        out = {p: np.array(sorted(v)) for p, v in out.items()}
    return held, out


def balanced_pairs(indices, labels, count, rng):
    """Like @siamese/datasets' PairSampler: round(count / 2) positives (a uniform class with two or
    more images, two distinct images), the rest negatives (two distinct uniform classes, one image
    each). Returns (i1, i2, same) arrays."""
    by_class = {}
    for i in indices:
        by_class.setdefault(int(labels[i]), []).append(int(i))
    classes = sorted(by_class)
    positive_classes = [c for c in classes if len(by_class[c]) >= 2]
    npos = round(count / 2)
    i1, i2, same = [], [], []
    for j in range(count):
        if j < npos:
            members = by_class[positive_classes[rng.integers(len(positive_classes))]]
            a, b = rng.choice(len(members), 2, replace=False)
            i1.append(members[a])
            i2.append(members[b])
            same.append(1)
        else:
            c1, c2 = rng.choice(len(classes), 2, replace=False)
            m1, m2 = by_class[classes[c1]], by_class[classes[c2]]
            i1.append(m1[rng.integers(len(m1))])
            i2.append(m2[rng.integers(len(m2))])
            same.append(0)
    order = rng.permutation(count)
    return np.array(i1)[order], np.array(i2)[order], np.array(same)[order]


def triplets(indices, labels, count, rng):
    """Anchor and positive: a uniform class with two or more images, two distinct images;
    negative: one image of another uniform class."""
    by_class = {}
    for i in indices:
        by_class.setdefault(int(labels[i]), []).append(int(i))
    classes = [c for c in sorted(by_class) if len(by_class[c]) >= 2]
    others = sorted(by_class)
    a, p, n = [], [], []
    for _ in range(count):
        c = classes[rng.integers(len(classes))]
        x, y = rng.choice(len(by_class[c]), 2, replace=False)
        neg = [o for o in others if o != c]
        m = by_class[neg[rng.integers(len(neg))]]
        a.append(by_class[c][x])
        p.append(by_class[c][y])
        n.append(m[rng.integers(len(m))])
    return np.array(a), np.array(p), np.array(n)


def roc_auc(scores, same):
    """ROC AUC by the Mann-Whitney statistic, tied scores sharing their average rank."""
    scores = np.asarray(scores, dtype=np.float64)
    same = np.asarray(same).astype(bool)
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    r = np.empty(len(s))
    r[order] = ranks
    npos, nneg = same.sum(), (~same).sum()
    return float((r[same].sum() - npos * (npos + 1) / 2) / (npos * nneg))


# ----------------------------------------------------------------------------- run
def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="image folder: DIR/<class>/<image>")
    p.add_argument("--loss", default="cosface", choices=[*IDENTITY, *PAIR])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    p.add_argument("--scale", type=float, help="s (identity losses; default 30)")
    p.add_argument("--margin", type=float, help="m (cosface 0.35, arcface 0.5 rad, contrastive/triplet 1)")
    p.add_argument("--batch-size", type=int, default=64, help="images per step (identity losses)")
    p.add_argument("--sampler", default="shuffle", choices=["shuffle", "m-per-class"])
    p.add_argument("--m", type=int, default=9, help="images per class with --sampler m-per-class")
    p.add_argument("--pairs-per-epoch", type=int, default=8000, help="pair/triplet losses")
    p.add_argument("--pair-batch-size", type=int, default=32, help="pairs per step (pair/triplet losses)")
    p.add_argument("--holdout-classes", type=int, default=3)
    p.add_argument("--holdout", default="last", choices=["last", "seeded"])
    p.add_argument("--split-from", help="a `siamese train` OUT folder: use its split.json + split-openset.json")
    p.add_argument("--val-pairs", type=int, default=2000)
    p.add_argument("--norm", default="imagenet", choices=["imagenet", "pm1"])
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    t0 = time.perf_counter()
    classes, ids, labels, x = load_folder(a.data, a.norm)
    held, parts = split(classes, ids, labels, a)
    train_classes = sorted(set(labels[parts["train"]].tolist()))
    remap = {c: i for i, c in enumerate(train_classes)}
    train_labels = torch.tensor([remap[int(labels[i])] for i in parts["train"]])
    val = balanced_pairs(parts["val"], labels, a.val_pairs, np.random.default_rng([a.seed, 1_000_003]))
    openset = balanced_pairs(parts["openset"], labels, a.val_pairs, np.random.default_rng([a.seed, 2_000_003]))
    print(json.dumps({
        "setup": {
            "data": a.data, "loss": a.loss, "images": len(ids), "classes": len(classes),
            "heldOut": [classes[c] for c in held],
            "counts": {k: int(len(v)) for k, v in parts.items()},
            "split": "cli-manifest" if a.split_from else f"numpy seed {a.seed}, holdout {a.holdout}",
            "norm": a.norm, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "loadSeconds": round(time.perf_counter() - t0, 2),
        }
    }), flush=True)

    identity = a.loss in IDENTITY
    if identity:
        s, m = IDENTITY[a.loss]
        model = IdentityModel(a.loss, len(train_classes), a.scale or s, m if a.margin is None else a.margin)
        if a.sampler == "m-per-class" and (a.batch_size % a.m or a.batch_size // a.m > len(train_classes)):
            p.error(f"--batch-size must be a multiple of --m with at most {len(train_classes)} classes per batch")
        steps = len(parts["train"]) // a.batch_size
    else:
        model = PairModel(a.loss, 1.0 if a.margin is None else a.margin)
        steps = max(1, a.pairs_per_epoch // a.pair_batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    warm = min(100, steps) if a.schedule == "cosine" else 0
    total = steps * a.epochs

    def lr_at(step):
        if step < warm:
            return a.lr * (step + 1) / warm
        if a.schedule == "constant":
            return a.lr
        t = min(1, (step - warm) / max(1, total - warm))
        return a.lr * (0.05 + 0.95 * (1 + math.cos(math.pi * t)) / 2)

    @torch.no_grad()
    def evaluate(pairs):
        model.eval()
        i1, i2, same = pairs
        used = np.unique(np.concatenate([i1, i2]))
        emb = torch.cat([model.encoder(x[used[k : k + 256]]) for k in range(0, len(used), 256)])
        where = {int(i): k for k, i in enumerate(used)}
        e1 = emb[[where[int(i)] for i in i1]]
        e2 = emb[[where[int(i)] for i in i2]]
        model.train()
        return roc_auc(model.pair_scores(e1, e2).numpy(), same)

    step = 0
    train_idx = parts["train"]
    for epoch in range(1, a.epochs + 1):
        rng = np.random.default_rng([a.seed, 1009, epoch])
        model.train()
        t = time.perf_counter()
        losses = []
        if identity and a.sampler == "shuffle":
            order = rng.permutation(len(train_idx))
            batches = [order[k * a.batch_size : (k + 1) * a.batch_size] for k in range(steps)]
        elif identity:
            by_class = [np.flatnonzero(train_labels.numpy() == c) for c in range(len(train_classes))]
            batches = []
            for _ in range(steps):
                chosen = rng.choice(len(by_class), a.batch_size // a.m, replace=False)
                batches.append(np.concatenate([rng.choice(by_class[c], a.m, replace=False) for c in chosen]))
        for k in range(steps):
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            if identity:
                rows = batches[k]
                loss = model.loss(x[train_idx[rows]], train_labels[rows])
            elif a.loss == "triplet":
                ia, ip, ineg = triplets(train_idx, labels, a.pair_batch_size, rng)
                loss = model.loss((x[ia], x[ip], x[ineg]), None)
            else:
                i1, i2, same = balanced_pairs(train_idx, labels, a.pair_batch_size, rng)
                loss = model.loss((x[i1], x[i2]), torch.from_numpy(same))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            step += 1
        train_s = time.perf_counter() - t
        t = time.perf_counter()
        val_auc, open_auc = evaluate(val), evaluate(openset)
        print(json.dumps({
            "epoch": epoch,
            "loss": round(float(np.mean(losses)), 4),
            "valAuc": round(val_auc, 4),
            "openSetAuc": round(open_auc, 4),
            "seconds": round(train_s, 2),
            "evalSeconds": round(time.perf_counter() - t, 2),
            "steps": steps,
        }), flush=True)


if __name__ == "__main__":
    main()

"""Train the exported Siamese network with PyTorch: one process, or many with torchrun (DDP).

    python train.py --data IMAGES --out RUN        # one process
    torchrun --nproc_per_node 4 train.py --data IMAGES --out RUN
                                                   # one node, 4 processes (GPUs, or gloo on CPU)

(Debian's torch 1.13 needs ``torchrun --redirects 2 --tee 2 ...``; README.md has the form for
several machines.)

Settings come from siamese.config.json beside this file (the same fields ``siamese train`` reads:
train.epochs, batchSize, lr, optimizer, loss, seed; data.source), flags override them, and the
schedule is siamese's: linear warm-up over min(100, steps per epoch) steps, then cosine decay to
0.05 x lr. ``--batch-size`` is the global batch: each of W processes takes batch/W pairs of the same
sampled batch, and BatchNorm normalises with the statistics of the whole batch (``--sync-bn``, on
by default with more than one process), so a run on W processes computes the one-process run's
steps up to float rounding (dropout masks are drawn for the whole batch too). Rank 0 writes
RUN/siamese.config.json and RUN/split.json at start-up, then RUN/weights.safetensors (the best
validation epoch, siamese's parameter names), RUN/last.safetensors and RUN/checkpoint.json; every
file is written atomically (a temporary file, fsynced, renamed over the old one), so a run killed at
any point leaves whole files, and ``siamese import RUN --out MODEL`` can take it from its last
checkpoint. Only rank 0 decides the split (RUN/split.json when resuming, else afresh); the other
processes receive it from rank 0, never read the file.

Needs PyTorch and Pillow (``pip install torch pillow``); torchvision only for ``--augment``.
"""

import argparse
import collections
import json
import math
import os
import sys
import time


def _require():
    """One line naming what to install, instead of a traceback from deep inside an import."""
    missing = []
    for module, package in (("torch", "torch"), ("PIL", "pillow")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise SystemExit(
            f"train.py: needs {' and '.join(missing)}: pip install {' '.join(missing)}"
        )


_require()

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from siamese_model import (  # noqa: E402
    IR_VERSION,
    SiameseNet,
    data,
    global_batch,
    preprocess,
    safetensors_io,
)
from siamese_model import model as model_module  # noqa: E402
from siamese_model.loss import LOSS, siamese_loss  # noqa: E402

FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
KOCH_AFFINE = {"degrees": 10, "shear": 0.3, "scale": (0.8, 1.2), "pixels": 2, "p": 0.5}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", default=os.path.join(HERE, "siamese.config.json"))
    p.add_argument("--data", help="image folder (a folder per class) or a CSV of pairs a,b,label")
    p.add_argument("--val-data", help="a CSV of pairs to validate on (with a CSV --data)")
    p.add_argument(
        "--split", help="a siamese split manifest (default: RUN/split.json, else split afresh)"
    )
    p.add_argument("--out", required=True, help="the run folder")
    p.add_argument(
        "--init", help="starting weights (default: weights.safetensors beside this file)"
    )
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, help="pairs per step, all processes together")
    p.add_argument("--lr", type=float)
    p.add_argument("--optimizer", choices=["adam", "adamw", "sgd"])
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--pairs-per-epoch", type=int, default=8000)
    p.add_argument("--val-pairs", type=int, default=2000)
    p.add_argument("--seed", type=int)
    p.add_argument("--augment", choices=["none", "koch", "koch+lighting"], default="none")
    p.add_argument("--max-steps", type=int, help="stop after this many steps in all")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument(
        "--sync-bn",
        choices=["auto", "on", "off"],
        default="auto",
        help="BatchNorm statistics over the whole batch of all processes (auto: on with 2 or more)",
    )
    p.add_argument(
        "--save-ranks", action="store_true", help="each rank writes RUN/rank-R.safetensors"
    )
    p.add_argument(
        "--cache-images",
        type=int,
        default=20000,
        help="decoded images each process keeps in memory, least recently used dropped first "
        "(default 20000; 0: decode every time)",
    )
    return p.parse_args(argv)


def settings_from(args):
    """Flags over siamese.config.json over siamese's defaults."""
    config = {}
    if args.config and os.path.exists(args.config):
        with open(args.config, encoding="utf-8") as f:
            config = json.load(f)
    train = config.get("train", {})
    if train.get("loss", LOSS) != LOSS:
        raise SystemExit(
            f"train.py: {args.config} says loss '{train['loss']}', "
            f"this package was generated for '{LOSS}'"
        )
    base = os.path.dirname(os.path.abspath(args.config)) if args.config else HERE
    source = args.data or (config.get("data", {}).get("source"))
    if source and not args.data and not os.path.isabs(source):
        source = os.path.join(base, source)
    if not source:
        raise SystemExit(
            "train.py: --data is required: an image folder (a folder per class) or a CSV of pairs"
        )
    if not os.path.exists(source):
        raise SystemExit(f"train.py: --data '{source}' does not exist")
    return {
        "source": os.path.abspath(source),
        "epochs": args.epochs or train.get("epochs", 10),
        "batch_size": args.batch_size or train.get("batchSize", 32),
        "lr": args.lr or train.get("lr", 0.001),
        "optimizer": args.optimizer or train.get("optimizer", "adam"),
        "weight_decay": args.weight_decay,
        "seed": args.seed if args.seed is not None else train.get("seed", 1),
        "config": config,
    }


def learning_rate(lr, step, total, warmup):
    """siamese's schedule: linear warm-up, then cosine from lr down to 0.05 x lr over the run."""
    if step < warmup:
        return lr * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return lr * (0.05 + 0.95 * (1 + math.cos(math.pi * t)) / 2)


def make_optimizer(kind, parameters, lr, weight_decay=0.0):
    """torch.optim with siamese's settings (PyTorch's update rules are siamese's)."""
    if kind == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay)
    cls = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
    return cls(parameters, lr=lr, weight_decay=weight_decay)


def train_step(model, optimizer, x1, x2, labels, lr):
    """One step: forward (train mode), the generated loss, backward, the optimizer at this lr."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    loss = siamese_loss(model(x1, x2), labels)
    loss.backward()
    optimizer.step()
    return loss.detach()


class Distributed:
    """torchrun's environment: rank, world size, device; gloo on CPU, nccl on GPUs."""

    def __init__(self, device):
        self.launched = "RANK" in os.environ and "WORLD_SIZE" in os.environ
        self.rank = int(os.environ.get("RANK", 0))
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        local = int(os.environ.get("LOCAL_RANK", 0))
        cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
        if cuda and not torch.cuda.is_available():
            raise SystemExit("train.py: --device cuda, but torch sees no CUDA device")
        self.device = torch.device(f"cuda:{local}" if cuda else "cpu")
        if cuda:
            torch.cuda.set_device(self.device)
        self.backend = "nccl" if cuda else "gloo"
        if self.launched:
            dist.init_process_group(backend=self.backend)

    def log(self, line):
        if self.rank == 0:
            print(line, flush=True)

    def barrier(self):
        if self.launched:
            dist.barrier()

    def close(self):
        if self.launched:
            dist.destroy_process_group()


class Pixels:
    """Decoded 8-bit images, cached per process (each decodes only its own share of a batch): at
    most ``limit`` of them, the least recently used dropped first (0: no cache). 20000 images of
    3x224x224 are 3 GB; of 1x105x105, 220 MB."""

    def __init__(self, items, limit=20000):
        self.items = items
        self.limit = max(0, limit)
        self.cache = collections.OrderedDict()

    def get(self, i):
        hit = self.cache.get(i)
        if hit is not None:
            self.cache.move_to_end(i)
            return hit
        pixels = preprocess.load_pixels(self.items.path(i))
        if self.limit:
            self.cache[i] = pixels
            if len(self.cache) > self.limit:
                self.cache.popitem(last=False)
        return pixels


def augmenter(kind, seed):
    """siamese's --augment presets with torchvision's transforms (each part with p = 0.5)."""
    if kind == "none":
        return None
    from torchvision import transforms as T

    k = KOCH_AFFINE
    size = (preprocess.PREPROCESSING["height"], preprocess.PREPROCESSING["width"])
    parts = [
        T.RandomApply([T.RandomAffine(degrees=k["degrees"])], p=k["p"]),
        T.RandomApply([T.RandomAffine(0, shear=math.degrees(math.atan(k["shear"])))], p=k["p"]),
        T.RandomApply([T.RandomAffine(0, scale=k["scale"])], p=k["p"]),
        T.RandomApply(
            [T.RandomAffine(0, translate=(k["pixels"] / size[1], k["pixels"] / size[0]))], p=k["p"]
        ),
    ]
    if kind == "koch+lighting":
        parts.append(T.RandomApply([T.ColorJitter(brightness=0.1)], p=0.5))
        parts.append(T.RandomApply([T.ColorJitter(contrast=0.2)], p=0.5))
    torch.manual_seed(seed)
    return T.Compose(parts)


def batch_of(pixels, pairs, device, augment=None):
    def image(i):
        p = pixels.get(i)
        return augment(p) if augment else p

    x1 = preprocess.normalize(torch.stack([image(a) for a, _, _ in pairs]))
    x2 = preprocess.normalize(torch.stack([image(b) for _, b, _ in pairs]))
    labels = torch.tensor([[float(y)] for _, _, y in pairs])
    return x1.to(device), x2.to(device), labels.to(device)


def roc_auc(scores, labels):
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    return (sum(r for r, y in zip(ranks, labels) if y == 1) - pos * (pos + 1) / 2) / (pos * neg)


@torch.no_grad()
def validate(model, pixels, pairs, device):
    model.eval()
    scores, losses = [], []
    for start in range(0, len(pairs), 256):
        chunk = pairs[start : start + 256]
        x1, x2, labels = batch_of(pixels, chunk, device)
        out = model(x1, x2)
        losses.append(float(siamese_loss(out, labels)) * len(chunk))
        scores.extend(out["logit"].flatten().tolist())
    model.train()
    labels = [y for _, _, y in pairs]
    accuracy = sum((s > 0) == (y == 1) for s, y in zip(scores, labels)) / len(pairs)
    return {"loss": sum(losses) / len(pairs), "auc": roc_auc(scores, labels), "accuracy": accuracy}


def write_json(path, value, indent=2):
    safetensors_io.write_atomic(path, json.dumps(value, indent=indent) + "\n")


def decide_split(items, s, args, out, d):
    """Rank 0 reads the manifest (--split, else RUN/split.json when resuming) or splits afresh, and
    writes it to RUN/split.json atomically; every other rank receives rank 0's manifest by
    broadcast, so all ranks train on one split even without a shared file system, and none reads
    a file rank 0 may be writing. A failure on rank 0 stops every rank with its message."""
    manifest_path = args.split or os.path.join(out, "split.json")
    message = [None]
    if d.rank == 0:
        try:
            if os.path.exists(manifest_path):
                manifest = data.read_manifest(manifest_path)
            else:
                manifest = data.split_by_image(items, s["seed"], FRACTIONS)
            data.apply_manifest(items, manifest, manifest_path)
            write_json(os.path.join(out, "split.json"), manifest, indent=1)
            message = [{"manifest": manifest}]
        except (OSError, ValueError, KeyError) as e:
            message = [{"error": f"train.py: {e}"}]
    if d.launched:
        dist.broadcast_object_list(message, src=0)
    if "error" in message[0]:
        raise SystemExit(message[0]["error"])
    return message[0]["manifest"], manifest_path


def open_data(s, args, out, d):
    """(train Items, train pair source, val Items, val pairs) for an image folder or a pair CSV."""
    if s["source"].lower().endswith(".csv"):
        items, pairs = data.pair_csv(s["source"])
        val_items, val_pairs = data.pair_csv(args.val_data) if args.val_data else (None, [])
        return items, ("list", pairs), val_items, val_pairs
    items = data.image_folder(s["source"])
    manifest, manifest_path = decide_split(items, s, args, out, d)
    parts = data.apply_manifest(items, manifest, manifest_path)
    val_pairs = data.PairSampler(parts["val"], s["seed"] + 1_000_003).next(args.val_pairs)
    return parts["train"], ("sample", None), parts["val"], val_pairs


def state_of(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def check_ranks_agree(model, d):
    """The largest difference of each rank's parameters and of its buffers (BatchNorm's running
    statistics and counts) from rank 0's, as each rank holds them: nothing is copied between
    ranks first, so statistics that drifted apart (``--sync-bn off``) show. (0.0, 0.0) when every
    rank holds rank 0's weights exactly."""
    if not d.launched:
        return 0.0, 0.0
    buffers = {name for name, _ in model.named_buffers()}
    worst = torch.zeros(2, dtype=torch.float64, device=d.device)
    for name, t in model.state_dict().items():
        ref = t.detach().clone()
        dist.broadcast(ref, 0)
        if t.numel():
            k = 1 if name in buffers else 0
            worst[k] = torch.maximum(worst[k], (t.detach().double() - ref.double()).abs().max())
    dist.all_reduce(worst, op=dist.ReduceOp.MAX)
    return float(worst[0]), float(worst[1])


def run_config(s, mode):
    """RUN/siamese.config.json: the package's config with the data this run trains on."""
    config = dict(s["config"])
    config["data"] = {
        "source": s["source"],
        **({"split": "split.json"} if mode == "sample" else {}),
    }
    return config


def main(argv=None):
    args = parse_args(argv)
    s = settings_from(args)
    d = Distributed(args.device)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(s["seed"])
    if s["batch_size"] % d.world != 0:
        raise SystemExit(
            f"train.py: --batch-size {s['batch_size']} must be a multiple of "
            f"the {d.world} processes"
        )
    share = s["batch_size"] // d.world

    model = SiameseNet()
    init = args.init or os.path.join(HERE, "weights.safetensors")
    if os.path.exists(init):
        safetensors_io.load_into(model, init)
    model.to(d.device).train()
    synced = 0
    if args.sync_bn == "on" or (args.sync_bn == "auto" and d.world > 1):
        if not d.launched:
            raise SystemExit("train.py: --sync-bn on needs torchrun (a process group)")
        model, synced = global_batch.synchronize(model, d.device)
    # Dropout masks are drawn for the whole batch, alike on every rank, each keeping its rows.
    global_batch.global_dropout(model_module, s["seed"] * 1_000_003, d.rank, d.world)
    net = (
        DistributedDataParallel(
            model,
            device_ids=[d.device.index] if d.device.type == "cuda" else None,
            find_unused_parameters=LOSS != "bce",
        )
        if d.launched
        else model
    )
    optimizer = make_optimizer(s["optimizer"], net.parameters(), s["lr"], s["weight_decay"])

    train_items, (mode, listed), val_items, val_pairs = open_data(s, args, out, d)
    if d.rank == 0:
        # Now, not at the end: a run killed after a checkpoint can still be imported.
        write_json(os.path.join(out, "siamese.config.json"), run_config(s, mode))
    pixels = Pixels(train_items, args.cache_images)
    val_pixels = Pixels(val_items, args.cache_images) if val_items is not None else None
    steps_per_epoch = max(
        1, (len(listed) if mode == "list" else args.pairs_per_epoch) // s["batch_size"]
    )
    total = steps_per_epoch * s["epochs"]
    if args.max_steps:
        total = min(total, args.max_steps)
    warmup = min(100, steps_per_epoch)
    augment = augmenter(args.augment, s["seed"] * 7919 + d.rank)
    d.log(
        f"siamese PyTorch training (IR version {IR_VERSION}): {len(train_items)} training images, "
        f"{d.world} process(es) on {d.device.type} "
        f"({d.backend if d.launched else 'no process group'}), "
        f"{total} steps of {s['batch_size']} pairs ({share} per process), "
        f"{s['optimizer']} lr {s['lr']}, loss {LOSS}"
        + (f", {synced} BatchNorm layers synchronised across processes" if synced else "")
    )

    step, best, started = 0, None, time.time()
    for epoch in range(s["epochs"]):
        if mode == "list":
            order = torch.randperm(
                len(listed), generator=torch.Generator().manual_seed(s["seed"] * 1009 + epoch)
            )
            batches = (
                [listed[i] for i in order[k : k + s["batch_size"]]]
                for k in range(0, len(listed), s["batch_size"])
            )
        else:
            sampler = data.PairSampler(train_items, s["seed"] * 1009 + epoch)
            batches = (sampler.next(s["batch_size"]) for _ in range(steps_per_epoch))
        running, count = 0.0, 0
        for pairs in batches:
            if step >= total or count >= steps_per_epoch:
                break
            mine = pairs[d.rank * share : (d.rank + 1) * share]
            x1, x2, labels = batch_of(pixels, mine, d.device, augment)
            loss = train_step(
                net, optimizer, x1, x2, labels, learning_rate(s["lr"], step, total, warmup)
            )
            running += float(loss)
            count += 1
            step += 1
        line = f"epoch {epoch + 1}: step {step}, train loss {running / max(1, count):.4f}"
        if val_pixels is not None and val_pairs:
            if d.rank == 0:
                m = validate(model, val_pixels, val_pairs, d.device)
                line += (
                    f", val loss {m['loss']:.4f}, val AUC {m['auc']:.4f}, "
                    f"val accuracy {m['accuracy'] * 100:.2f}%"
                )
                if best is None or m["auc"] > best["auc"]:
                    best = {**m, "epoch": epoch + 1, "step": step}
                    safetensors_io.save(
                        os.path.join(out, "weights.safetensors"),
                        state_of(model),
                        {"epoch": epoch + 1},
                    )
            d.barrier()
        d.log(f"{line} ({time.time() - started:.0f}s)")
        if step >= total:
            break

    params_diff, buffers_diff = check_ranks_agree(model, d)
    difference = max(params_diff, buffers_diff)
    if d.launched:
        if difference == 0:
            d.log(f"ranks: {d.world} hold identical weights (largest difference {difference:g})")
        else:
            d.log(
                f"ranks: {d.world} hold different weights: parameters differ by up to "
                f"{params_diff:g}, buffers (BatchNorm statistics) by up to {buffers_diff:g}"
                + (" (--sync-bn off: rank 0's are written)" if not synced else "")
            )
    if args.save_ranks:
        safetensors_io.save(os.path.join(out, f"rank-{d.rank}.safetensors"), state_of(model))
    if d.rank == 0:
        safetensors_io.save(os.path.join(out, "last.safetensors"), state_of(model), {"step": step})
        if best is None:
            safetensors_io.save(
                os.path.join(out, "weights.safetensors"), state_of(model), {"step": step}
            )
        write_json(
            os.path.join(out, "checkpoint.json"),
            {
                "irVersion": IR_VERSION,
                "steps": step,
                "processes": d.world,
                "best": best,
                "rankDifference": difference,
                "rankDifferences": {"parameters": params_diff, "buffers": buffers_diff},
                "seconds": round(time.time() - started, 1),
            },
        )
    d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

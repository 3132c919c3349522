"""Trainer reference for the data-throughput bench: how many images per second a Siamese training
step consumes on this machine (PyTorch eager on CPU, torchvision ResNet without fc, |f1 - f2| head,
BCE, SGD). Uses Debian's python3-torch; prints one JSON line."""
import argparse
import json
import time

import torch
import torchvision

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--runs", type=int, default=3)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)


def rate(arch, channels, size, pairs):
    enc = getattr(torchvision.models, arch)()
    if channels != 3:
        enc.conv1 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
    dim = enc.fc.in_features
    enc.fc = torch.nn.Identity()
    head = torch.nn.Linear(dim, 1)
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.01)
    x1 = torch.randn(pairs, channels, size, size)
    x2 = torch.randn(pairs, channels, size, size)
    y = torch.randint(0, 2, (pairs, 1)).float()

    def step():
        opt.zero_grad()
        logit = head((enc(x1) - enc(x2)).abs())
        torch.nn.functional.binary_cross_entropy_with_logits(logit, y).backward()
        opt.step()

    step()  # warm-up
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    return 2 * pairs / times[len(times) // 2]


results = [
    {"model": "resnet18", "size": "105x105 gray", "pairs": 16, "imagesPerSecond": rate("resnet18", 1, 105, 16)},
    {"model": "resnet50", "size": "224x224 RGB", "pairs": 4, "imagesPerSecond": rate("resnet50", 3, 224, 4)},
]
print(json.dumps({"threads": a.threads, "results": results}))

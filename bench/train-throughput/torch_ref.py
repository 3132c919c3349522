"""PyTorch side of bench/train-throughput: the same Siamese ResNet (torchvision encoder without fc,
|f1 - f2|, head Linear -> ReLU -> Dropout(0.5) -> Linear), the weights @siamese/core initialized,
BCE-with-logits, Adam lr 1e-3; training pairs/s and peak RSS.

Run by run.mjs; by hand:
  /usr/bin/python3 bench/train-throughput/torch_ref.py --weights w.safetensors --inputs in.safetensors
Prints one JSON line: median pairs/s over --runs timed runs of --steps steps, the eval loss before
training and the peak RSS of this process.
"""
import argparse
import json
import resource
import statistics
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from torch_siamese import Siamese as _Twin, read_safetensors  # noqa: E402


class Siamese(_Twin):
    def forward(self, x1, x2):
        return self.logit(x1, x2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--threads", type=int, default=0, help="0: torch's default")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--steps", type=int, default=3)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    inputs = read_safetensors(a.inputs)
    x1, x2, labels = inputs["x1"], inputs["x2"], inputs["labels"]
    model = Siamese(a.arch, x1.shape[1])
    model.load_state_dict(read_safetensors(a.weights), strict=True)
    loss_fn = nn.BCEWithLogitsLoss()
    model.eval()
    with torch.no_grad():
        eval_loss = loss_fn(model(x1, x2), labels).item()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x1, x2), labels)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    rates = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        rates.append(a.steps * x1.shape[0] / (time.perf_counter() - t0))
    print(json.dumps({
        "pairsPerSecond": statistics.median(rates),
        "rates": rates,
        "evalLoss": eval_loss,
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()

"""PyTorch side of bench/infer-throughput: the same Siamese network in PyTorch eager and exported
by torch.onnx.export, with the weights @siamese/core initialized (read from a safetensors file).

Run by run.mjs; by hand:
  /usr/bin/python3 bench/infer-throughput/torch_ref.py --arch resnet18 --channels 1 --size 105 \
      --batch 8 --threads 2 --weights w.safetensors --inputs in.safetensors --onnx-out torch.onnx

Prints one JSON line: eager pairs/s (median of --runs timed batches after warm-up) and the logits
for the given inputs, so run.mjs can check that both implementations compute the same thing.
"""
import argparse
import json
import statistics
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from torch_siamese import Siamese as _Twin, read_safetensors  # noqa: E402


class Siamese(_Twin):
    """Returns the logit and the probability, the outputs of the exported pair model."""

    def forward(self, x1, x2):
        logit = self.logit(x1, x2)
        return logit, torch.sigmoid(logit)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", required=True)
    p.add_argument("--channels", type=int, required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--weights", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--onnx-out", required=True)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = Siamese(a.arch, a.channels).eval()
    state = read_safetensors(a.weights)
    model.load_state_dict(state, strict=True)
    inputs = read_safetensors(a.inputs)
    x1, x2 = inputs["x1"], inputs["x2"]
    with torch.no_grad():
        logits = model(x1, x2)[0].flatten().tolist()
        for _ in range(a.warmup):
            model(x1, x2)
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            model(x1, x2)
            times.append(time.perf_counter() - t0)
    torch.onnx.export(
        model,
        (x1, x2),
        a.onnx_out,
        input_names=["x1", "x2"],
        output_names=["logit", "probability"],
        dynamic_axes={"x1": {0: "N"}, "x2": {0: "N"}, "logit": {0: "N"}, "probability": {0: "N"}},
        opset_version=17,
        do_constant_folding=True,
    )
    med = statistics.median(times)
    print(json.dumps({"torch": torch.__version__, "eager_pairs_per_s": a.batch / med, "eager_median_s": med, "logits": logits}))


if __name__ == "__main__":
    main()

"""Gradients of every conv2d conformance case, from PyTorch, for the wasm Conv2DBackpropFilter tests.

For each case in packages/core/conformance/conv.json: loss = sum(conv2d(x, w, b) * r) with a fixed
random r of the output shape; writes r and d loss / d x, d w (and d b) computed in float64.
Run with Debian's torch: /usr/bin/python3 packages/backend-tfjs/tools/conv_grads.py
"""
import json
import pathlib

import torch

ROOT = pathlib.Path(__file__).resolve().parents[3]
SRC = ROOT / "packages/core/conformance/conv.json"
OUT = ROOT / "packages/backend-tfjs/src/kernels/__fixtures__/conv-grads.json"


def t(spec):
    return torch.tensor(spec["data"], dtype=torch.float64).reshape(spec["shape"])


def flat(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().to(torch.float32).flatten().tolist()]}


def main():
    cases = json.loads(SRC.read_text())["cases"]
    gen = torch.Generator().manual_seed(1234)
    out = []
    for c in cases:
        x = t(c["inputs"][0]).requires_grad_()
        w = t(c["inputs"][1]).requires_grad_()
        b = t(c["inputs"][2]).requires_grad_() if c["inputs"][2] is not None else None
        a = c["attrs"]
        y = torch.nn.functional.conv2d(x, w, b, a["stride"], a["padding"], a["dilation"], a["groups"])
        r = torch.randn(y.shape, generator=gen, dtype=torch.float64)
        (y * r).sum().backward()
        entry = {"name": c["name"], "r": flat(r), "dx": flat(x.grad), "dw": flat(w.grad)}
        if b is not None:
            entry["db"] = flat(b.grad)
        out.append(entry)
    doc = {"generator": "packages/backend-tfjs/tools/conv_grads.py", "torch": torch.__version__, "cases": out}
    OUT.write_text(json.dumps(doc) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main()

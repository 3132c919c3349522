"""Three steps of each optimizer config on fixed gradients, from torch.optim: every backend's optimizer
tests read packages/core/conformance/optimizers/torch-optim.json.

Run with Debian's torch: /usr/bin/python3 tools/reference/optimizers.py
"""
import json
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parents[2] / "packages/core/conformance/optimizers/torch-optim.json"

CONFIGS = [
    ({"kind": "sgd"}, lambda p: torch.optim.SGD(p, lr=0.1)),
    ({"kind": "sgd", "momentum": 0.9, "dampening": 0.1, "weightDecay": 0.01},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ({"kind": "sgd", "momentum": 0.9, "nesterov": True, "weightDecay": 0.01},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ({"kind": "adam"}, lambda p: torch.optim.Adam(p, lr=0.1)),
    ({"kind": "adam", "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weightDecay": 0.01},
     lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    ({"kind": "adamw", "weightDecay": 0.1}, lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=0.1)),
]


def main():
    gen = torch.Generator().manual_seed(7)
    p0 = torch.randn(6, generator=gen, dtype=torch.float64)
    grads = [torch.randn(6, generator=gen, dtype=torch.float64) for _ in range(3)]
    cases = []
    for config, make in CONFIGS:
        p = torch.nn.Parameter(p0.clone())
        opt = make([p])
        steps = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            steps.append(p.detach().tolist())
        cases.append({"config": config, "steps": steps})
    doc = {"generator": "tools/reference/optimizers.py", "torch": torch.__version__, "lr": 0.1,
           "p0": p0.tolist(), "grads": [g.tolist() for g in grads], "cases": cases}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()

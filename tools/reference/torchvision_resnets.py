"""Reference names and shapes of torchvision's ResNets, for @siamese/core's encoder tests.

Writes packages/core/src/nn/__fixtures__/torchvision-resnets.json: for each ResNet variant the
ordered state_dict keys without `fc.*` (name, shape, dtype), the parameter count (sum of numel
over parameters() outside fc), the buffer count (sum of numel over buffers()) and the embedding
size (the width of the pooled, flattened features, measured by a forward pass with fc removed),
plus the same for the original Siamese head. Models are built with weights=None: no download,
and no weight values end up in the file.

Each entry names the IR preset and overrides that should produce the same module, so the test
builds `resnetPreset(preset, overrides)` without a mapping table.

Regenerate (Debian's python with torch 1.13 / torchvision 0.14, from the repository root):

    /usr/bin/python3 tools/reference/torchvision_resnets.py
"""
import json
import os

import torch
import torchvision
from torch import nn
from torchvision import models

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "packages", "core", "src", "nn", "__fixtures__", "torchvision-resnets.json",
)


def grayscale_resnet18():
    m = models.resnet18(weights=None)
    # The usual way to take 1-channel input: a new stem conv with torchvision's own arguments.
    m.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return m


# (fixture name, IR preset, IR overrides, torchvision constructor, input channels)
VARIANTS = [
    ("resnet18", "resnet18", {}, lambda: models.resnet18(weights=None), 3),
    ("resnet34", "resnet34", {}, lambda: models.resnet34(weights=None), 3),
    ("resnet50", "resnet50", {}, lambda: models.resnet50(weights=None), 3),
    ("resnet101", "resnet101", {}, lambda: models.resnet101(weights=None), 3),
    ("resnet152", "resnet152", {}, lambda: models.resnet152(weights=None), 3),
    ("resnext50_32x4d", "resnext50_32x4d", {}, lambda: models.resnext50_32x4d(weights=None), 3),
    ("wide_resnet50_2", "wide_resnet50_2", {}, lambda: models.wide_resnet50_2(weights=None), 3),
    (
        "resnet50_dilated",
        "resnet50",
        {"replaceStrideWithDilation": [False, True, True]},
        lambda: models.resnet50(weights=None, replace_stride_with_dilation=[False, True, True]),
        3,
    ),
    ("resnet18_gray", "resnet18", {"inChannels": 1}, grayscale_resnet18, 1),
]


def dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def describe(module, skip_prefix=None):
    keys = [
        {"name": k, "shape": list(v.shape), "dtype": dtype_name(v)}
        for k, v in module.state_dict().items()
        if skip_prefix is None or not k.startswith(skip_prefix)
    ]
    params = sum(
        p.numel() for n, p in module.named_parameters() if skip_prefix is None or not n.startswith(skip_prefix)
    )
    buffers = sum(b.numel() for b in module.buffers())
    return keys, params, buffers


def resnet_entry(name, preset, overrides, make, channels):
    torch.manual_seed(0)
    m = make()
    keys, params, buffers = describe(m, "fc.")
    m.fc = nn.Identity()
    m.eval()
    with torch.no_grad():
        # Any input size works for the width; 64x64 keeps the 150-layer models cheap.
        emb = m(torch.zeros(1, channels, 64, 64)).shape[1]
    return {
        "name": name,
        "preset": preset,
        "overrides": overrides,
        "parameters": params,
        "buffers": buffers,
        "embedding": emb,
        "keys": keys,
    }


def head_entry():
    head = nn.Sequential(nn.Linear(2048, 1023), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1023, 1))
    keys, params, buffers = describe(head)
    return {"name": "original_head", "parameters": params, "buffers": buffers, "keys": keys}


def dump(doc):
    # One key per line: readable diffs, a few hundred KB in all.
    lines = ["{"]
    for k in ("generator", "torch", "torchvision"):
        lines.append(f"  {json.dumps(k)}: {json.dumps(doc[k])},")

    def entry(e, indent):
        head = {k: v for k, v in e.items() if k != "keys"}
        inner = json.dumps(head)[1:-1]
        keys = ",\n".join(f"{indent}    {json.dumps(k)}" for k in e["keys"])
        return f"{indent}{{{inner}, \"keys\": [\n{keys}\n{indent}  ]}}"

    lines.append('  "models": [')
    lines.append(",\n".join(entry(e, "    ") for e in doc["models"]))
    lines.append("  ],")
    lines.append(f'  "head": {entry(doc["head"], "  ").lstrip()}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    doc = {
        "generator": "tools/reference/torchvision_resnets.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "models": [resnet_entry(*v) for v in VARIANTS],
        "head": head_entry(),
    }
    text = dump(doc)
    json.loads(text)  # the hand-formatted text must still be JSON
    with open(OUT, "w") as f:
        f.write(text)
    for e in doc["models"]:
        print(f"{e['name']:18} keys {len(e['keys']):4}  params {e['parameters']:>11,}  buffers {e['buffers']:>7,}  emb {e['embedding']}")
    print(f"head               keys {len(doc['head']['keys']):4}  params {doc['head']['parameters']:>11,}")


if __name__ == "__main__":
    main()

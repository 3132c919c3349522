"""A tiny PyTorch state_dict in safetensors format, for @siamese/core's weights tests.

Regenerate (Debian's python with torch 1.13, from the repository root):

    /usr/bin/python3 tools/reference/safetensors_fixture.py

Writes packages/core/src/weights/__fixtures__/torch-tiny.safetensors and torch-tiny.json.
torch 1.13 predates the `safetensors` package, so the file is written by hand following the spec:
u64 little-endian header length N, N bytes of JSON (compact, padded with spaces to a multiple of
8), then each tensor's little-endian bytes in state_dict order. The JSON lists, per tensor, the
dtype, shape and values (float32 values printed as the exact doubles they convert to), plus the
metadata, so the test compares bit for bit. The model is trained one step in train mode so the
BatchNorm running statistics and the int64 `num_batches_tracked` counter are not the defaults.
"""
import json
import os
import struct

import torch
from torch import nn

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "packages", "core", "src", "weights", "__fixtures__",
)

DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def build_state_dict():
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("conv1", nn.Conv2d(1, 2, 3, bias=False))
    model.add_module("bn1", nn.BatchNorm2d(2))
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flatten", nn.Flatten())
    model.add_module("fc", nn.Linear(2, 3))
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 1, 5, 5))  # updates running_mean/var and num_batches_tracked
    return model.state_dict()


def encode(state, metadata):
    entries = []
    data = bytearray()
    for name, t in state.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        entries.append((name, {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                               "data_offsets": [len(data), len(data) + len(raw)]}))
        data += raw
    # Same key order as @siamese/core's encoder (tensors in order, then __metadata__), so the test
    # can also check that re-encoding gives identical bytes.
    header = "{" + ",".join(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":")) for k, v in entries)
    header += "," + json.dumps("__metadata__") + ":" + json.dumps(metadata, separators=(",", ":")) + "}"
    hb = header.encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    return struct.pack("<Q", len(hb)) + hb + bytes(data)


def main():
    state = build_state_dict()
    metadata = {"format": "pt", "source": "tools/reference/safetensors_fixture.py"}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "torch-tiny.safetensors"), "wb") as f:
        f.write(encode(state, metadata))
    expected = {
        "torch": torch.__version__.split("+")[0],
        "metadata": metadata,
        "tensors": [
            {"name": k, "dtype": DTYPES[v.dtype], "shape": list(v.shape), "values": v.flatten().tolist()}
            for k, v in state.items()
        ],
    }
    with open(os.path.join(OUT, "torch-tiny.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

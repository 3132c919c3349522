"""The PyTorch twin of @siamese/core's default Siamese network, for the benchmarks' reference
sides: torchvision encoder without fc, |f1 - f2|, head Linear(D, 1023) -> ReLU -> Dropout(0.5) ->
Linear(1023, 1), with state_dict keys equal to the IR's (encoder.*, head.*), and a safetensors
reader so both sides load the same weights."""
import json
import struct

import torch
import torchvision
from torch import nn

DTYPES = {"F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + b : base + e]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


class Siamese(nn.Module):
    def __init__(self, arch, channels):
        super().__init__()
        enc = getattr(torchvision.models, arch)(weights=None)
        if channels != 3:
            enc.conv1 = nn.Conv2d(channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        width = enc.fc.in_features
        enc.fc = nn.Identity()
        self.encoder = enc
        self.head = nn.Sequential(nn.Linear(width, 1023), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1023, 1))

    def logit(self, x1, x2):
        return self.head(torch.abs(self.encoder(x1) - self.encoder(x2)))

"""PyTorch checkpoints (torch.save files) for @siamese/core's torch reader tests.

Regenerate (Debian's python with torch 1.13 / torchvision 0.14, from the repository root):

    /usr/bin/python3 tools/reference/torch_checkpoints.py

Writes packages/core/src/weights/__fixtures__/torch/ (see the README.md there):

- Small format-coverage files, a few KB each: a tiny conv+bn+linear module's state_dict saved
  with the default pickle protocol (2) and with protocols 4 and 5; wrapped as
  {'epoch', 'state_dict', 'optimizer', ...}, {'model': sd} and {'model_state_dict': sd}; with
  DataParallel's `module.` prefix; as nn.Parameters; float16/bfloat16/float64/int64/... tensors;
  transposed, sliced, expanded and storage-sharing views; dtypes the reader refuses; the legacy
  (pre-1.6) format; a TorchScript archive. expected.json lists, per file, the state_dict's names,
  dtypes (as the reader returns them), shapes and values (float32 values as the exact doubles
  they are; int64 as strings; non-finite floats as "NaN"/"Infinity"/"-Infinity").

- resnet18.pt / resnet50.pt: torchvision state_dicts (with fc and num_batches_tracked) with
  RANDOM weights, nothing downloaded. To keep them around 1 MB instead of 45/100 MB, every
  tensor of 2+ dims is saved as an overlapping strided view (torch.as_strided) of its own small
  random pool of 1024 elements (2 * (1 + sum(size - 1)) for the widest layers, at most ~6k, so
  that every dim can step by at least one): inner dims step through the pool contiguously while
  it holds them, outer dims step by a few elements, so rows overlap and reuse the pool's values.
  torch.save writes the pool once and the view's (offset, size, stride), so a reader has to
  materialize the view: that is part of what the tests check. 1-D tensors are views with a
  storage offset of 3 into a pool 3 longer. Each conv/linear pool has std sqrt(2/fan_in), BatchNorm
  weight ~1, bias and running_mean small, running_var in 0.5..1.5.
  Pooled weights are strongly correlated, so each conv's pool is then scaled so that the conv's
  output has std 1 on the input below (taken in order, in eval mode), and activations neither
  explode nor vanish over 50 layers.
  Each dict is loaded strictly into a fresh torchvision model (proving it is a valid state_dict);
  then, with fc replaced by Identity, in eval mode, the encoder's embeddings of a seeded 2x3x64x64
  input go to resnet18-embeddings.json / resnet50-embeddings.json, the input itself to
  resnet-input.safetensors. resnet-tensors.json records, per tensor, the first 16 values, 4
  sampled values and the float64 sum, to check the materialized views.
"""
import json
import math
import os
import sys
import zipfile
from collections import OrderedDict

import torch
import torchvision
from torch import nn
from torchvision import models

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_fixture import encode as encode_safetensors  # noqa: E402

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "packages", "core", "src", "weights", "__fixtures__", "torch",
)
GENERATOR = "tools/reference/torch_checkpoints.py"

# What the reader returns for each torch dtype (float16/bfloat16/float64 become float32).
CORE = {
    torch.float32: "float32", torch.float16: "float32", torch.bfloat16: "float32",
    torch.float64: "float32", torch.int64: "int64", torch.int32: "int32",
    torch.uint8: "uint8", torch.bool: "bool",
}
CONVERTED = {torch.float16: "float16", torch.bfloat16: "bfloat16", torch.float64: "float64"}


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


def trained_tiny():
    """The tiny module after one Adam step in train mode: running stats, counter and optimizer state set."""
    torch.manual_seed(0)
    model = Tiny()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    loss = model(torch.randn(4, 1, 5, 5)).square().mean()
    loss.backward()
    opt.step()
    return model, opt


def number(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    return x


def values(t):
    if t.dtype == torch.int64:
        return [str(v) for v in t.flatten().tolist()]
    if t.dtype == torch.bool:
        return [int(v) for v in t.flatten().tolist()]
    if t.is_floating_point():
        return [number(v) for v in t.float().flatten().tolist()]
    return t.flatten().tolist()


def expected_entry(sd, key):
    tensors = [(k, v) for k, v in sd.items() if isinstance(v, torch.Tensor)]
    converted = {}
    for _, v in tensors:
        if v.dtype in CONVERTED:
            converted[CONVERTED[v.dtype]] = converted.get(CONVERTED[v.dtype], 0) + 1
    return {
        "key": key,
        "converted": converted,
        "tensors": [
            {"name": k, "dtype": CORE[v.dtype], "torch": str(v.dtype).replace("torch.", ""),
             "shape": list(v.shape), "values": values(v.detach())}
            for k, v in tensors
        ],
    }


def path(name):
    return os.path.join(OUT, name)


def dtypes_dict():
    torch.manual_seed(1)
    f16 = [0.0, -0.0, 1.0, -2.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08, 1e-05,
           float("inf"), float("-inf"), float("nan"), 0.1]
    return OrderedDict([
        ("float", torch.randn(2, 3)),
        ("half", torch.tensor(f16, dtype=torch.float16)),
        ("half_t", torch.randn(2, 3).half().t()),  # non-contiguous and converted
        ("bf16", torch.tensor([1.0, -3.140625, 1e38, 1e-38, float("inf"), float("nan"), 0.1],
                              dtype=torch.bfloat16)),
        ("double", torch.tensor([0.1, 1 / 3, 1e-50, 1e300, -2.5, 16777217.0, float("-inf")],
                                dtype=torch.float64)),
        ("long", torch.tensor([0, -1, 2**53 + 1, -(2**63), 2**63 - 1], dtype=torch.int64)),
        ("int", torch.tensor([-(2**31), 2**31 - 1, 7], dtype=torch.int32)),
        ("byte", torch.tensor([0, 128, 255], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(2.5)),
        ("empty", torch.zeros(0, 3)),
    ])


def views_dict():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 1
    column = torch.tensor([[1.0], [2.0], [3.0]])
    pool = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    return OrderedDict([
        ("base", base),
        ("transposed", base.t()),                     # same storage, strides (1, 4)
        ("row", base[1]),                             # storage offset 4
        ("column", base[:, 2]),                       # stride 4
        ("every_other", base[:, ::2]),                # strides (4, 2)
        ("tail", base.view(-1)[5:9]),                 # offset 5
        ("expanded", column.expand(3, 4)),            # stride 0: overlapping
        ("windows", torch.as_strided(pool, (3, 3), (1, 1))),  # overlapping windows
        ("pool", pool),                               # the windows' storage, saved once
        ("note", 7),                                  # not a tensor: skipped by the reader
    ])


def format_fixtures(expected):
    model, opt = trained_tiny()
    sd = model.state_dict()

    def save(name, obj, sd_for_expected, key, **kwargs):
        torch.save(obj, path(name), **kwargs)
        expected[name] = expected_entry(sd_for_expected, key)

    save("tiny.pt", sd, sd, None)
    save("tiny-protocol4.pt", sd, sd, None, pickle_protocol=4)
    save("tiny-protocol5.pt", sd, sd, None, pickle_protocol=5)
    extra = {
        "bytes": b"\x00\x01\xff", "set": {1, 2}, "big": 2**70, "negative": -5, "float": 0.1,
        "none": None, "tuple": (1, "a", (True, False)), "dtype": torch.float16,
        "size": torch.Size([2, 3]), "device": torch.device("cpu"), "nested": [[1.5], {"k": "v"}],
    }
    save("wrapped-state_dict.pt",
         {"epoch": 3, "state_dict": sd, "optimizer": opt.state_dict(), "extra": extra}, sd, "state_dict")
    save("wrapped-model.pt", {"model": sd}, sd, "model")
    save("wrapped-model_state_dict.pt",
         {"epoch": 1, "model_state_dict": sd, "optimizer_state_dict": opt.state_dict()}, sd, "model_state_dict")
    dp = nn.DataParallel(model).state_dict()
    save("data-parallel.pt", dp, dp, None)
    params = OrderedDict(model.named_parameters())  # nn.Parameter values: _rebuild_parameter
    save("parameters.pt", params, params, None)
    dtypes = dtypes_dict()
    save("dtypes.pt", dtypes, dtypes, None)
    views = views_dict()
    save("views.pt", views, views, None)

    # Files the reader refuses, and the words its message must contain.
    refused = {
        "int8.pt": (OrderedDict([("ok", torch.ones(2)), ("small", torch.tensor([1, -2], dtype=torch.int8))]),
                    "'small' is int8"),
        "int16.pt": ({"short": torch.tensor([1], dtype=torch.int16)}, "'short' is int16"),
        "complex.pt": ({"z": torch.tensor([1 + 2j], dtype=torch.complex64)}, "'z' is complex64"),
        "quantized.pt": ({"q": torch.quantize_per_tensor(torch.tensor([0.5, 1.0]), 0.1, 0, torch.qint8)},
                         "'q' is quantized"),
    }
    errors = {}
    for name, (obj, message) in refused.items():
        torch.save(obj, path(name))
        errors[name] = message
    torch.save(sd, path("legacy.pt"), _use_new_zipfile_serialization=False)
    errors["legacy.pt"] = "legacy format"
    torch.jit.save(torch.jit.script(Tiny().eval()), path("torchscript.pt"))
    errors["torchscript.pt"] = "TorchScript archive"
    return errors


def overlapping_strides(shape, pool):
    """Strides of a view of `shape` into `pool` elements: inner dims contiguous while the pool can
    also fit one step of every outer dim, then the outer dims share what is left."""
    dims = [d for d in range(len(shape)) if shape[d] > 1]
    strides = [1] * len(shape)
    span, i = 1, len(dims)
    while i > 0:
        n = shape[dims[i - 1]]
        rest = sum(shape[d] - 1 for d in dims[: i - 1])
        if span * n + rest > pool:
            break
        strides[dims[i - 1]] = span
        span *= n
        i -= 1
    room = pool - span  # what the outer dims may add to the largest index
    outer = dims[:i]
    for j, d in enumerate(reversed(outer)):
        reserve = sum(shape[k] - 1 for k in outer[: len(outer) - 1 - j])  # a step for each dim left
        strides[d] = max(1, (room - reserve) // (len(outer) - j) // (shape[d] - 1))
        room -= strides[d] * (shape[d] - 1)
    assert room >= 0, (shape, pool)
    return strides


def pooled(name, t, gen):
    """A strided view with t's shape and dtype over a small random pool (see the module docstring)."""
    shape = list(t.shape)
    if t.dtype == torch.int64:  # num_batches_tracked: a 0-dim int64, here at storage offset 2
        pool = torch.tensor([0, 0, 100 + int(torch.randint(0, 900, (), generator=gen))])
        return torch.as_strided(pool, (), (), 2)
    leaf = name.rsplit(".", 1)[-1]
    if t.dim() >= 2:
        fan_in = t[0].numel()
        size = max(1024, 2 * (1 + sum(n - 1 for n in shape)))
        std = math.sqrt((1.0 if name.startswith("fc.") else 2.0) / fan_in)
        pool = torch.randn(size, generator=gen) * std
        return torch.as_strided(pool, shape, overlapping_strides(shape, size))
    n = shape[0]
    if leaf == "running_var":
        pool = torch.rand(n + 3, generator=gen) + 0.5
    elif leaf == "weight":
        pool = 1 + 0.1 * torch.randn(n + 3, generator=gen)
    else:  # bias, running_mean
        pool = 0.05 * torch.randn(n + 3, generator=gen)
    return torch.as_strided(pool, shape, [1], 3)


def calibrate(model, x):
    """Per conv, in order, the factor that gives its output std 1 on x (eval mode). Pooled weights
    are strongly correlated, so std sqrt(2/fan_in) alone lets 50 layers grow the activations."""
    scales = {}
    model.eval()
    for name, m in model.named_modules():
        if not isinstance(m, nn.Conv2d):
            continue
        seen = []
        hook = m.register_forward_hook(lambda _m, _i, y: seen.append(y))
        with torch.no_grad():
            model(x)
        hook.remove()
        scale = 1 / float(seen[0].std())
        with torch.no_grad():
            m.weight.mul_(scale)
        scales[f"{name}.weight"] = scale
    return scales


def tensor_record(name, t):
    flat = t.reshape(-1)
    n = flat.numel()
    picks = [(k * 7919 + 13) % n for k in range(4)]
    as_number = (lambda v: str(int(v))) if t.dtype == torch.int64 else float
    return {
        "name": name, "shape": list(t.shape), "dtype": CORE[t.dtype],
        "storage": {"numel": t.storage().size(), "offset": t.storage_offset(), "stride": list(t.stride())},
        "head": [as_number(v) for v in flat[:16].tolist()],
        "samples": [[i, as_number(flat[i].item())] for i in picks],
        "sum": float(t.double().sum()) if t.dtype != torch.int64 else str(int(t.sum())),
    }


def resnet_fixture(arch, make, seed, x):
    gen = torch.Generator().manual_seed(seed)
    reference = make()
    sd = OrderedDict((k, pooled(k, v, gen)) for k, v in reference.state_dict().items())
    reference.load_state_dict(sd, strict=True)
    for name, scale in calibrate(reference, x).items():
        sd[name]._base.mul_(scale)  # scale the pool: the view follows
    torch.save(sd, path(f"{arch}.pt"))
    # Proof it is a valid state_dict: every key, shape and dtype torchvision expects.
    model = make()
    model.load_state_dict(torch.load(path(f"{arch}.pt")), strict=True)
    model.fc = nn.Identity()
    model.eval()
    with torch.no_grad():
        emb = model(x)
    print(f"{arch}: {os.path.getsize(path(arch + '.pt'))} bytes, embeddings mean {emb.mean():.4f} "
          f"std {emb.std():.4f} max {emb.abs().max():.4f}")
    assert math.isfinite(float(emb.abs().max())) and 1e-3 < float(emb.std()) < 1e3
    doc = {
        "generator": GENERATOR, "torch": torch.__version__.split("+")[0],
        "torchvision": torchvision.__version__.split("+")[0], "model": arch,
        "input": {"file": "resnet-input.safetensors", "tensor": "input", "shape": list(x.shape),
                  "made_by": "torch.manual_seed(1234); torch.randn(2, 3, 64, 64)"},
        "note": "model.fc = Identity, model.eval(); float32 forward on CPU",
        "shape": list(emb.shape), "embeddings": emb.flatten().tolist(),
    }
    with open(path(f"{arch}-embeddings.json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")
    return [tensor_record(k, v) for k, v in sd.items()]


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    errors = format_fixtures(expected)
    with open(path("expected.json"), "w") as f:
        # One tensor per line: readable diffs.
        f.write('{\n "generator": ' + json.dumps(GENERATOR) + ',\n "torch": ')
        f.write(json.dumps(torch.__version__.split("+")[0]) + ',\n "errors": ' + json.dumps(errors))
        f.write(',\n "files": {\n')
        for i, (name, e) in enumerate(expected.items()):
            head = json.dumps({k: v for k, v in e.items() if k != "tensors"})[1:-1]
            rows = ",\n".join("   " + json.dumps(t) for t in e["tensors"])
            f.write(f'  {json.dumps(name)}: {{{head}, "tensors": [\n{rows}\n  ]}}')
            f.write(",\n" if i + 1 < len(expected) else "\n")
        f.write(" }\n}\n")

    torch.manual_seed(1234)
    x = torch.randn(2, 3, 64, 64)
    with open(path("resnet-input.safetensors"), "wb") as f:
        f.write(encode_safetensors({"input": x}, {"generator": GENERATOR, "seed": "1234"}))
    records = {
        "resnet18": resnet_fixture("resnet18", lambda: models.resnet18(weights=None), 18, x),
        "resnet50": resnet_fixture("resnet50", lambda: models.resnet50(weights=None), 50, x),
    }
    with open(path("resnet-tensors.json"), "w") as f:
        f.write('{\n "generator": ' + json.dumps(GENERATOR) + ",\n")
        for i, (arch, rows) in enumerate(records.items()):
            f.write(f' "{arch}": [\n' + ",\n".join("  " + json.dumps(r) for r in rows) + "\n ]")
            f.write(",\n" if i + 1 < len(records) else "\n")
        f.write("}\n")

    with zipfile.ZipFile(path("tiny.pt")) as z:
        print("tiny.pt records:", [(i.filename, i.compress_type, i.flag_bits) for i in z.infolist()])
    total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
    print(f"{len(os.listdir(OUT))} files, {total} bytes")


if __name__ == "__main__":
    main()

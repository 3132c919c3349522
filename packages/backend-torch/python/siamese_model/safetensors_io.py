"""Reads and writes safetensors files, the format siamese model folders keep their weights in.

The format is small: an 8-byte little-endian header length, a JSON header naming each tensor's
dtype, shape and byte range, then the raw little-endian bytes. It is written out here rather than
imported from the ``safetensors`` package so that the generated package needs nothing beyond torch
(Debian's python3-torch has no python3-safetensors, and a cluster image may not either), and
without numpy (pip's torch wheels do not require it). Loading never runs code from the file, unlike
``torch.load`` of a pickle. Every write is atomic (``write_atomic``): a process killed mid-write
leaves the previous file whole, never a truncated one.
"""

import ctypes
import json
import os
import struct
import sys

import torch

DTYPES = {
    "F32": torch.float32,
    "F64": torch.float64,
    "F16": torch.float16,
    "I64": torch.int64,
    "I32": torch.int32,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}
MAX_HEADER_BYTES = 100_000_000


def write_atomic(path, data):
    """Writes bytes (or str, as UTF-8) to path atomically: a temporary file in the same folder,
    flushed and fsynced, then renamed over path (os.replace), and the folder fsynced where it can
    be. Readers see the old file or the new one, never part of one."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = os.path.dirname(os.path.abspath(path))
    # Named per process (the umask's permissions, unlike mkstemp's 0600): ranks never share one.
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _bytes_of(t):
    """The raw bytes of a contiguous CPU tensor, read from its memory (no numpy)."""
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size())


def _to_little_endian(data):
    if sys.byteorder == "little":
        return data
    raise RuntimeError("safetensors_io: big-endian machines are not supported")


def load(path):
    """Returns {name: tensor} (CPU tensors copied out of the file) and the header's __metadata__."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
    (size,) = struct.unpack("<Q", raw[:8])
    if size > MAX_HEADER_BYTES or 8 + size > len(raw):
        raise ValueError(f"{path}: header length {size} does not fit the file ({len(raw)} bytes)")
    header = json.loads(raw[8 : 8 + size].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(_to_little_endian(raw))[8 + size :]
    tensors = {}
    for name, entry in header.items():
        dtype = DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {entry['dtype']}")
        start, end = entry["data_offsets"]
        shape = entry["shape"]
        chunk = bytes(body[start:end])
        tensor = (
            torch.frombuffer(bytearray(chunk), dtype=dtype)
            if chunk
            else torch.empty(0, dtype=dtype)
        )
        tensors[name] = tensor.reshape(shape).clone()
    return tensors, metadata


def save(path, tensors, metadata=None):
    """Writes {name: tensor} (any device; contiguous, little-endian) with string metadata,
    atomically (see write_atomic)."""
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        if t.dtype not in NAMES:
            raise ValueError(f"safetensors_io: tensor '{name}' has unsupported dtype {t.dtype}")
        data = _to_little_endian(_bytes_of(t)) if t.numel() else b""
        header[name] = {
            "dtype": NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    write_atomic(path, b"".join([struct.pack("<Q", len(text)), text, *chunks]))


def load_into(module, path, strict=True):
    """Loads a safetensors file into a module by name; strict: every name and shape must match."""
    tensors, _ = load(path)
    state = module.state_dict()
    if strict:
        missing = sorted(set(state) - set(tensors))
        unexpected = sorted(set(tensors) - set(state))
        if missing or unexpected:
            raise KeyError(f"{path}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    for name, t in tensors.items():
        if name in state and tuple(state[name].shape) != tuple(t.shape):
            raise ValueError(
                f"{path}: '{name}' has shape {tuple(t.shape)}, the model {tuple(state[name].shape)}"
            )
    module.load_state_dict({k: v for k, v in tensors.items() if k in state}, strict=strict)
    return module

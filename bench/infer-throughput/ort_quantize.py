"""The reference int8 quantizer for bench/infer-throughput: onnxruntime's own Python tooling on
PyTorch's export, configured as its docs recommend for CPU: `quant_pre_process` (shape inference
and graph optimization), then `quantize_static` in QDQ format with uint8 activations, int8
per-channel weights and min-max calibration over the given images.

Run by run.mjs with a Python that has the `onnxruntime` package (a venv with
--system-site-packages: pip install onnxruntime ml_dtypes; pip install --ignore-installed
'onnx>=1.16'). By hand:
  python bench/infer-throughput/ort_quantize.py --model torch.onnx --inputs calib.safetensors \
      --out torch.int8.onnx

Prints one JSON line: the onnxruntime version and the seconds calibration and quantization took.
"""
import argparse
import json
import os
import struct
import tempfile
import time

import numpy as np
from onnxruntime import __version__ as ort_version
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process



def read_safetensors(path):
    """float32 tensors of a safetensors file as numpy arrays (no torch: the venv's numpy 2 and
    Debian's torch, built against numpy 1, do not mix)."""
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    body = data[8 + size :]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", f"{name}: only F32 is read here, got {t['dtype']}"
        start, end = t["data_offsets"]
        out[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(t["shape"])
    return out


class Batches(CalibrationDataReader):
    """The calibration pairs, `batch` at a time, as the model's x1 and x2 feeds."""

    def __init__(self, x1, x2, batch):
        self.feeds = [
            {"x1": x1[i : i + batch], "x2": x2[i : i + batch]} for i in range(0, x1.shape[0], batch)
        ]
        self.at = 0

    def get_next(self):
        if self.at >= len(self.feeds):
            return None
        self.at += 1
        return self.feeds[self.at - 1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--batch", type=int, default=8)
    a = p.parse_args()
    inputs = read_safetensors(a.inputs)
    x1 = np.ascontiguousarray(inputs["x1"], dtype=np.float32)
    x2 = np.ascontiguousarray(inputs["x2"], dtype=np.float32)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        prepared = os.path.join(tmp, "prepared.onnx")
        quant_pre_process(a.model, prepared)
        quantize_static(
            prepared,
            a.out,
            Batches(x1, x2, a.batch),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
        )
    print(json.dumps({"onnxruntime": ort_version, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()

"""Test harness: for each job, load the generated package, its weights and inputs, run the module in
eval mode, and write its outputs and its state_dict's names and shapes."""

import importlib
import json
import sys


def run(job):
    sys.path.insert(0, job["package"])
    for name in [m for m in sys.modules if m == "siamese_model" or m.startswith("siamese_model.")]:
        del sys.modules[name]
    pkg = importlib.import_module("siamese_model")
    sys.path.pop(0)
    model = pkg.SiameseNet()
    state = {k: list(v.shape) for k, v in model.state_dict().items()}
    pkg.safetensors_io.load_into(model, job["weights"])
    model.eval()
    inputs, _ = pkg.safetensors_io.load(job["inputs"])
    with __import__("torch").no_grad():
        out = model(inputs["x1"], inputs["x2"])
    pkg.safetensors_io.save(job["outputs"], dict(out))
    with open(job["state"], "w") as f:
        json.dump(state, f)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        for job in json.load(f):
            run(job)

"""Test harness: one optimizer step of the generated training code (train.py's make_optimizer and
train_step, the generated module and loss) from given weights on a given batch."""

import importlib
import json
import sys

job = json.loads(sys.argv[1])
sys.path.insert(0, job["package"])
train = importlib.import_module("train")
from siamese_model import SiameseNet, safetensors_io  # noqa: E402

model = SiameseNet()
safetensors_io.load_into(model, job["weights"])
model.train()
batch, _ = safetensors_io.load(job["batch"])
optimizer = train.make_optimizer(job["optimizer"], model.parameters(), job["lr"])
loss = train.train_step(model, optimizer, batch["x1"], batch["x2"], batch["labels"], job["lr"])
state = {k: v.detach() for k, v in model.state_dict().items()}
state["__loss"] = loss.reshape(1)
safetensors_io.save(job["out"], state)

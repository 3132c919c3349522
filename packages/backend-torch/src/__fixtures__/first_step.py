"""Test harness, run under torchrun: the gradients of one training step on a seeded random batch,
each rank taking its share as train.py does (global-batch dropout masks; BatchNorm synchronised
when syncBn), DistributedDataParallel averaging them; rank 0 writes the gradients and the
BatchNorm statistics after the step's forward pass.

    torchrun --nproc_per_node W first_step.py '{"package": DIR, "batch": 32, "syncBn": true,
                                               "out": FILE}'
"""

import json
import sys

import torch

job = json.loads(sys.argv[1])
sys.path.insert(0, job["package"])
import train  # noqa: E402
from siamese_model import SiameseNet, global_batch, preprocess, safetensors_io  # noqa: E402
from siamese_model import model as model_module  # noqa: E402
from siamese_model.loss import siamese_loss  # noqa: E402

d = train.Distributed("cpu")
global_batch.global_dropout(model_module, 11, d.rank, d.world)
model = SiameseNet()
safetensors_io.load_into(model, f"{job['package']}/weights.safetensors")
model.train()
if job["syncBn"] and d.world > 1:
    model, _ = global_batch.synchronize(model, d.device)
net = torch.nn.parallel.DistributedDataParallel(model) if d.launched else model

n = job["batch"]
p = preprocess.PREPROCESSING
g = torch.Generator().manual_seed(7)
x1, x2 = (torch.randn(n, p["channels"], p["height"], p["width"], generator=g) for _ in range(2))
labels = (torch.arange(n) % 2 == 0).float().reshape(n, 1)
share = n // d.world
mine = slice(d.rank * share, (d.rank + 1) * share)
loss = siamese_loss(net(x1[mine], x2[mine]), labels[mine])
loss.backward()
if d.rank == 0:
    out = {f"grad.{k}": v.grad.detach() for k, v in model.named_parameters()}
    out.update({k: v.detach() for k, v in model.state_dict().items() if "running" in k})
    safetensors_io.save(job["out"], out)
d.close()

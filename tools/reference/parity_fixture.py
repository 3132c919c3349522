"""A model-level parity fixture for @siamese/core's backends: one tiny Siamese ResNet and PyTorch's
outputs, BatchNorm statistics and gradients for it.

Regenerate (Debian's python with torch 1.13 / torchvision 0.14, from the repository root):

    /usr/bin/python3 tools/reference/parity_fixture.py

Writes packages/core/conformance/models/siamese-tiny/ (read with `loadParityFixture` from
packages/core/src/conformance/parity.ts):

- weights.safetensors        the state_dict of the PyTorch twin of
                             `siamese(CONFIG)`, under the IR's names (`encoder.` + torchvision's
                             keys, `head.<Sequential index>`), `num_batches_tracked` as int64;
- inputs.safetensors         x1, x2 [4, 1, 32, 32] (float32 N(0, 1)) and labels [4, 1] (0 and 1);
- expected.json              the config, eval-mode outputs (logit, probability, embeddingA/B),
                             train-mode outputs (logit, BCE-with-logits mean loss, embeddingA/B),
                             the SGD settings and the tolerances;
- train_buffers.safetensors  every BatchNorm buffer after ONE train-mode forward;
- grads.safetensors          d(train-mode loss)/d(every trainable parameter), one backward pass.

The parameters after one plain SGD step are not stored: with lr 0.1 and no momentum they are exactly
`weight - lr * grad`, which this script checks against torch.optim.SGD and the loader computes.
Storing them would add another ~310 KB for no information.

The twin is built from torchvision's own BasicBlock and ResNet._make_layer, in a ResNet whose stem
width and input channels are arguments (torchvision fixes 64 and 3), so its state_dict keys are
torchvision's. forward(x1, x2) = head(|enc(x1) - enc(x2)|), each image through the encoder
separately: in train mode each side has its own batch statistics and the running statistics are
updated twice per step, first by x1's batch then by x2's (num_batches_tracked grows by 2).

Weights come from torch.manual_seed(0) and torchvision's init, then every BatchNorm weight, bias,
running_mean, running_var and num_batches_tracked is set to random non-default values so eval-mode
normalization and the momentum update are really exercised. Expected values are computed in float64
(model.double() on the float32 weights and inputs) and rounded to float32 once, as conformance.py
does. Single-threaded and seeded: re-running gives byte-identical files.
"""
import copy
import json
import os

import torch
from torch import nn
from torchvision.models import resnet as tv

from conformance import fmt  # the op cases' float32 text form
from safetensors_fixture import encode  # the hand-written safetensors layout

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "packages", "core", "conformance", "models", "siamese-tiny",
)

# The IR config this model twins; written into expected.json verbatim.
CONFIG = {
    "encoder": "resnet10_w8",
    "input": {"channels": 1, "height": 32, "width": 32},
    "combine": "absdiff",
    "head": {"hidden": [16], "dropout": 0},
}
BLOCK, LAYERS, WIDTH = tv.BasicBlock, [1, 1, 1, 1], 8  # RESNET_PRESETS.resnet10_w8
BATCH = 4
LABELS = [1.0, 0.0, 0.0, 1.0]
LR = 0.1
# |actual - expected| <= atol + rtol * |expected| (closeEnough). Outputs and buffers: the 1e-4 every
# CPU backend promises. Gradients: 1e-3 relative; the atol is 1e-3 of a typical gradient (1e-2..1e-1),
# since elements that cancel to near zero carry the absolute error of their tensor's larger terms.
# main() checks that a float32 PyTorch run stays well inside all of them.
TOLERANCE = {
    "outputs": {"atol": 1e-4, "rtol": 1e-4},
    "buffers": {"atol": 1e-4, "rtol": 1e-4},
    "grads": {"atol": 1e-4, "rtol": 1e-3},
    "sgdStep": {"atol": 1e-5, "rtol": 1e-4},
}
METADATA = {"format": "pt", "source": "tools/reference/parity_fixture.py"}


class ResNet(nn.Module):
    """torchvision's ResNet constructor with `width` (stem and layer1 channels; stages use 1x, 2x,
    4x, 8x) and `in_channels` as arguments and without `fc`: state_dict keys equal torchvision's."""

    _make_layer = tv.ResNet._make_layer  # torchvision's own, reading the attributes set below

    def __init__(self, block, layers, width=64, in_channels=3, groups=1, width_per_group=64):
        super().__init__()
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = width
        self.dilation = 1
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


class Siamese(nn.Module):
    """packages/core/src/nn/siamese.ts with combine 'absdiff': head(|enc(x1) - enc(x2)|)."""

    def __init__(self, encoder, embedding, hidden, dropout):
        super().__init__()
        self.encoder = encoder
        layers, width = [], embedding
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.head = nn.Sequential(*layers)

    def forward(self, x1, x2):
        a = self.encoder(x1)  # separately: per-side batch statistics, running stats updated a then b
        b = self.encoder(x2)
        return self.head((a - b).abs()), a, b


def build_model():
    torch.manual_seed(0)
    encoder = ResNet(BLOCK, LAYERS, width=WIDTH, in_channels=CONFIG["input"]["channels"])
    model = Siamese(encoder, WIDTH * 8 * BLOCK.expansion, CONFIG["head"]["hidden"], CONFIG["head"]["dropout"])
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c) + 0.5)
                m.bias.copy_(torch.randn(c) * 0.2)
                m.running_mean.copy_(torch.randn(c) * 0.2)
                m.running_var.copy_(torch.rand(c) + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 100, ())))
    return model


def make_inputs():
    torch.manual_seed(1)
    shape = (BATCH, CONFIG["input"]["channels"], CONFIG["input"]["height"], CONFIG["input"]["width"])
    x1 = torch.randn(*shape)
    x2 = torch.randn(*shape)
    labels = torch.tensor(LABELS, dtype=torch.float32).reshape(BATCH, 1)
    return {"x1": x1, "x2": x2, "labels": labels}


def f32(state):
    """float64 results rounded once to float32; int64 counters kept."""
    return {k: v.detach().to(torch.float32) if v.is_floating_point() else v.detach() for k, v in state.items()}


def reference(model, inputs):
    """Eval outputs, train outputs, train buffers, gradients and the SGD step, all in float64."""
    x1, x2, labels = (inputs[k].to(torch.float64) for k in ("x1", "x2", "labels"))

    m = copy.deepcopy(model).double()  # float32 weights widened exactly; counters stay int64
    m.eval()
    with torch.no_grad():
        logit, a, b = m(x1, x2)
    eval_out = {"logit": logit, "probability": torch.sigmoid(logit), "embeddingA": a, "embeddingB": b}

    m = copy.deepcopy(model).double()
    m.train()
    logit, a, b = m(x1, x2)
    loss = nn.functional.binary_cross_entropy_with_logits(logit, labels)  # mean
    loss.backward()
    train_out = {"logit": logit, "loss": loss, "embeddingA": a, "embeddingB": b}
    buffers = dict(m.named_buffers())
    grads = {k: p.grad for k, p in m.named_parameters()}

    before = {k: p.detach().clone() for k, p in m.named_parameters()}
    torch.optim.SGD(m.parameters(), lr=LR, momentum=0).step()
    for k, p in m.named_parameters():
        # Plain SGD is weight - lr * grad; the loader does this with the stored float32 gradient,
        # which moves the result by under lr * 2^-24 * |grad|, far inside the tolerance.
        assert torch.allclose(p.detach(), before[k] - LR * grads[k], rtol=0, atol=1e-12), k
    return eval_out, train_out, f32(buffers), f32(grads)


def check_float32(model, inputs, eval_out, train_out, buffers, grads):
    """A float32 PyTorch run, as a backend would do it: each group's worst error must stay under half
    its allowance, so the tolerances leave room for other summation orders."""
    m = copy.deepcopy(model)
    m.eval()
    with torch.no_grad():
        logit, a, b = m(inputs["x1"], inputs["x2"])
    got = {"logit": logit, "probability": torch.sigmoid(logit), "embeddingA": a, "embeddingB": b}
    report("eval", got, eval_out, TOLERANCE["outputs"])
    m.train()
    logit, a, b = m(inputs["x1"], inputs["x2"])
    loss = nn.functional.binary_cross_entropy_with_logits(logit, inputs["labels"])
    loss.backward()
    report("train", {"logit": logit, "loss": loss, "embeddingA": a, "embeddingB": b}, train_out, TOLERANCE["outputs"])
    report("buffers", dict(m.named_buffers()), buffers, TOLERANCE["buffers"])
    report("grads", {k: p.grad for k, p in m.named_parameters()}, grads, TOLERANCE["grads"])
    weights = dict(model.named_parameters())
    report(
        "sgdStep",
        {k: p.detach() - LR * p.grad for k, p in m.named_parameters()},
        {k: weights[k].detach().double() - LR * g.double() for k, g in grads.items()},
        TOLERANCE["sgdStep"],
    )


def report(what, got, want, tol):
    worst = 0.0
    for k, w in want.items():
        w = w.detach().to(torch.float64)
        err = (got[k].detach().to(torch.float64) - w).abs()
        worst = max(worst, float((err / (tol["atol"] + tol["rtol"] * w.abs())).max()))
    print(f"float32 torch vs fixture, {what:7} worst error / allowance {worst:.3f}")
    assert worst < 0.5, f"{what}: tolerance too tight for a float32 backend"


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    data = ", ".join(fmt(x) for x in t.reshape(-1).tolist())
    return '{"shape": %s, "data": [%s]}' % (json.dumps(list(t.shape)), data)


def expected_json(eval_out, train_out):
    def group(d):
        return "{\n" + ",\n".join(f"    {json.dumps(k)}: {tensor_json(v)}" for k, v in d.items()) + "\n  }"

    lines = [
        '  "generator": "tools/reference/parity_fixture.py"',
        f'  "torch": {json.dumps(torch.__version__)}',
        f'  "config": {json.dumps(CONFIG)}',
        f'  "eval": {group(eval_out)}',
        f'  "train": {group(train_out)}',
        f'  "sgd": {json.dumps({"lr": LR, "momentum": 0})}',
        f'  "tolerance": {json.dumps(TOLERANCE)}',
    ]
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    json.loads(text)  # the hand-formatted text must still be JSON
    return text


def main():
    torch.set_num_threads(1)  # one summation order on every machine
    model = build_model()
    inputs = make_inputs()
    eval_out, train_out, buffers, grads = reference(model, inputs)
    check_float32(model, inputs, eval_out, train_out, buffers, grads)

    os.makedirs(OUT, exist_ok=True)
    files = {
        "weights.safetensors": encode(model.state_dict(), METADATA),
        "inputs.safetensors": encode(inputs, METADATA),
        "train_buffers.safetensors": encode(buffers, METADATA),
        "grads.safetensors": encode(grads, METADATA),
    }
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    text = expected_json(eval_out, train_out)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        f.write(text)
    total = sum(len(d) for d in files.values()) + len(text)
    for name, data in [*files.items(), ("expected.json", text)]:
        print(f"{name:26} {len(data):>8} bytes")
    print(f"{'total':26} {total:>8} bytes")
    print(f"eval logit {eval_out['logit'].flatten().tolist()}  train loss {float(train_out['loss']):.6f}")


if __name__ == "__main__":
    main()

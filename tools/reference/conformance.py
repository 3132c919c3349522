"""Op conformance cases for @siamese/core: inputs, attrs and expected outputs from PyTorch.

Writes packages/core/conformance/<family>.json, one file per op family of packages/core/src/ops
(conv, norm, pool, elementwise, linear, layout, distance, reduce, loss). Every backend runs every
case and compares with `closeEnough` from packages/core/src/conformance.

Each case: `op`, `name`, `mode` ("eval", or "train" for batchNorm/dropout training behaviour),
`attrs` (every attribute of the IR op, written out in full as its `attrs()` returns them),
`inputs` (one tensor per node input, in the op's input order, `null` for an omitted optional
input; concat's variadic input is one entry per tensor, as a node lists them), `outputs`,
`buffers` (batchNorm train only: running statistics after the update) and `tolerance`
({atol, rtol}: |actual - expected| <= atol + rtol * |expected|).
A tensor is {"shape": [...], "data": [...]}: row-major float32 values written in the shortest
form that parses back to the same float32; a scalar has shape [] and one value.

Inputs are float32, drawn with torch.manual_seed per family. Expected values are computed by
PyTorch in float64 from those float32 inputs and rounded to float32 once, so the reference
carries no float32 accumulation error of its own.

Regenerate (Debian's python with torch 1.13, from the repository root):

    /usr/bin/python3 tools/reference/conformance.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "core", "conformance")
TOL = {"atol": 1e-5, "rtol": 1e-4}


class T:
    """A tensor to write: float32 values, computed or given."""

    def __init__(self, value):
        self.value = torch.as_tensor(value).detach().to(torch.float32).contiguous()


def randn(*shape, scale=1.0):
    return torch.randn(*shape) * scale


def d(t):
    """float64 view of a float32 tensor, for computing the reference."""
    return t.to(torch.float32).to(torch.float64)


def case(op, name, attrs, inputs, outputs, mode="eval", buffers=None, tol=None):
    c = {
        "op": op,
        "name": name,
        "mode": mode,
        "attrs": attrs,
        "inputs": [None if x is None else T(x) for x in inputs],
        "outputs": [T(y) for y in outputs],
    }
    if buffers is not None:
        c["buffers"] = {k: T(v) for k, v in buffers.items()}
    c["tolerance"] = tol or TOL
    return c


# ---------------------------------------------------------------------------------------- conv


def conv_attrs(stride=1, padding=0, dilation=1, groups=1):
    pair = lambda v: list(v) if isinstance(v, (list, tuple)) else [v, v]
    return {"stride": pair(stride), "padding": pair(padding), "dilation": pair(dilation), "groups": groups}


def conv_case(name, x_shape, w_shape, bias, **kw):
    x = randn(*x_shape)
    w = randn(*w_shape, scale=0.5)
    b = randn(w_shape[0]) if bias else None
    a = conv_attrs(**kw)
    y = F.conv2d(d(x), d(w), None if b is None else d(b), a["stride"], a["padding"], a["dilation"], a["groups"])
    return case("conv2d", name, a, [x, w, b], [y])


def conv():
    return [
        # ResNet stem.
        conv_case("stride2_pad3_k7", (1, 3, 16, 16), (4, 3, 7, 7), False, stride=2, padding=3),
        conv_case("stride2_pad3_k7_nonsquare_odd", (1, 3, 11, 14), (2, 3, 7, 7), False, stride=2, padding=3),
        conv_case("stride2_pad3_k7_one_channel", (2, 1, 9, 9), (3, 1, 7, 7), False, stride=2, padding=3),
        # BasicBlock / Bottleneck 3x3.
        conv_case("k3_stride1_pad1", (2, 4, 6, 6), (5, 4, 3, 3), False, padding=1),
        conv_case("k3_stride1_pad1_bias", (2, 4, 6, 6), (5, 4, 3, 3), True, padding=1),
        conv_case("k3_stride2_pad1_even", (1, 3, 8, 8), (4, 3, 3, 3), False, stride=2, padding=1),
        conv_case("k3_stride2_pad1_odd", (1, 4, 7, 7), (4, 4, 3, 3), False, stride=2, padding=1),
        conv_case("k3_stride2_pad1_nonsquare", (1, 3, 7, 10), (4, 3, 3, 3), True, stride=2, padding=1),
        # replace_stride_with_dilation: padding = dilation.
        conv_case("k3_dilation2_pad2", (1, 3, 9, 9), (4, 3, 3, 3), False, padding=2, dilation=2),
        conv_case("k3_dilation4_pad4", (1, 2, 12, 12), (3, 2, 3, 3), False, padding=4, dilation=4),
        conv_case("k3_dilation2_pad2_nonsquare", (1, 2, 7, 11), (3, 2, 3, 3), True, padding=2, dilation=2),
        # ResNeXt: grouped 3x3, stride 1 and 2, and dilated.
        conv_case("k3_groups2_pad1_bias", (1, 4, 6, 6), (6, 2, 3, 3), True, padding=1, groups=2),
        conv_case("k3_groups4_stride2_pad1", (1, 8, 7, 7), (8, 2, 3, 3), False, stride=2, padding=1, groups=4),
        conv_case("k3_groups2_dilation2_pad2", (1, 4, 8, 8), (4, 2, 3, 3), False, padding=2, dilation=2, groups=2),
        conv_case("k3_depthwise_pad1", (2, 4, 5, 5), (4, 1, 3, 3), False, padding=1, groups=4),
        conv_case("k3_depthwise_multiplier2_pad1_bias", (1, 3, 5, 6), (6, 1, 3, 3), True, padding=1, groups=3),
        # 1x1 projections and downsample.
        conv_case("k1_stride1", (2, 6, 4, 4), (5, 6, 1, 1), False),
        conv_case("k1_stride1_bias", (2, 6, 4, 4), (5, 6, 1, 1), True),
        conv_case("k1_stride2_even", (1, 4, 8, 8), (6, 4, 1, 1), False, stride=2),
        conv_case("k1_stride2_odd_nonsquare", (1, 4, 7, 9), (6, 4, 1, 1), False, stride=2),
        # Pair attributes that differ per axis.
        conv_case("k3x5_stride1x2_pad0x2", (1, 3, 10, 20), (4, 3, 3, 5), True, stride=[1, 2], padding=[0, 2]),
        conv_case("k3_no_padding", (1, 2, 5, 6), (3, 2, 3, 3), False),
    ]


# ---------------------------------------------------------------------------------------- norm


def bn_case(name, x_shape, mode, eps=1e-5, momentum=0.1, shift=0.0):
    c = x_shape[1]
    x = randn(*x_shape, scale=2.0) + shift
    w = randn(c)
    b = randn(c)
    rm = randn(c, scale=0.5)
    rv = torch.rand(c) + 0.5
    rm64, rv64 = d(rm), d(rv)
    y = F.batch_norm(d(x), rm64, rv64, d(w), d(b), training=mode == "train", momentum=momentum, eps=eps)
    buffers = {"runningMean": rm64, "runningVar": rv64} if mode == "train" else None
    return case("batchNorm", name, {"eps": eps, "momentum": momentum}, [x, w, b, rm, rv], [y], mode, buffers)


def norm():
    return [
        bn_case("eval", (2, 3, 4, 5), "eval"),
        bn_case("eval_eps1e-3", (2, 3, 4, 5), "eval", eps=1e-3),
        bn_case("eval_nonsquare_batch1", (1, 4, 3, 7), "eval"),
        bn_case("eval_rank2", (5, 3), "eval"),
        bn_case("train", (4, 3, 5, 6), "train", shift=1.5),
        bn_case("train_eps1e-3", (3, 2, 4, 4), "train", eps=1e-3),
        bn_case("train_momentum0.3", (2, 3, 3, 5), "train", momentum=0.3),
        bn_case("train_batch1", (1, 2, 3, 3), "train"),
        bn_case("train_rank2", (6, 4), "train"),
    ]


# ---------------------------------------------------------------------------------------- pool


def pool_attrs(kernel, stride=None, padding=0, dilation=1, ceil=False):
    pair = lambda v: list(v) if isinstance(v, (list, tuple)) else [v, v]
    return {
        "kernel": pair(kernel),
        "stride": pair(kernel if stride is None else stride),
        "padding": pair(padding),
        "dilation": pair(dilation),
        "ceilMode": ceil,
    }


def maxpool_case(name, x_shape, shift=0.0, **kw):
    x = randn(*x_shape) + shift
    a = pool_attrs(**kw)
    y = F.max_pool2d(d(x), a["kernel"], a["stride"], a["padding"], a["dilation"], ceil_mode=a["ceilMode"])
    return case("maxPool2d", name, a, [x], [y])


def avgpool_case(name, x_shape):
    x = randn(*x_shape)
    return case("globalAvgPool", name, {}, [x], [F.adaptive_avg_pool2d(d(x), 1)])


def pool():
    return [
        # ResNet stem pool.
        maxpool_case("k3_stride2_pad1_even", (1, 2, 8, 8), kernel=3, stride=2, padding=1),
        maxpool_case("k3_stride2_pad1_odd", (2, 2, 9, 9), kernel=3, stride=2, padding=1),
        maxpool_case("k3_stride2_pad1_nonsquare", (1, 3, 7, 10), kernel=3, stride=2, padding=1),
        # All negative: padding must act as -inf, not 0.
        maxpool_case("k3_stride2_pad1_all_negative", (1, 2, 6, 5), shift=-5.0, kernel=3, stride=2, padding=1),
        maxpool_case("k3_stride2_pad1_ceil", (1, 2, 8, 8), kernel=3, stride=2, padding=1, ceil=True),
        maxpool_case("k2_default_stride", (1, 2, 6, 7), kernel=2),
        maxpool_case("k2_stride2_ceil_odd", (1, 2, 5, 5), kernel=2, stride=2, ceil=True),
        # Ceil mode where the last window would start in the right padding and is dropped.
        maxpool_case("k3_stride3_pad1_ceil_drops_last", (1, 1, 5, 5), shift=-5.0, kernel=3, stride=3, padding=1, ceil=True),
        maxpool_case("k3_stride1_pad1_dilation2", (1, 2, 7, 7), kernel=3, stride=1, padding=1, dilation=2),
        maxpool_case("k2x3_stride1x2", (1, 1, 6, 9), kernel=[2, 3], stride=[1, 2]),
        avgpool_case("basic", (2, 3, 5, 7)),
        avgpool_case("already_1x1", (2, 4, 1, 1)),
    ]


# ----------------------------------------------------------------------------------- elementwise


def unary_case(op, fn, name, x):
    return case(op, name, {}, [x], [fn(d(x))])


def binary_case(op, fn, name, a_shape, b_shape):
    a, b = randn(*a_shape), randn(*b_shape)
    return case(op, name, {}, [a, b], [fn(d(a), d(b))])


def elementwise():
    edge = torch.tensor([0.0, -0.0, 1.0, -1.0, 1e-7, -1e-7, 3.5, -3.5])
    large = torch.tensor([-1e4, -100.0, -88.0, -30.0, -10.0, -1e-3, 0.0, 1e-3, 10.0, 30.0, 88.0, 100.0, 1e4])
    cases = []
    for op, fn in (("relu", torch.relu), ("abs", torch.abs), ("sigmoid", torch.sigmoid)):
        cases.append(unary_case(op, fn, "nchw", randn(2, 3, 4, 4)))
        cases.append(unary_case(op, fn, "edges", edge))
    cases.append(unary_case("sigmoid", torch.sigmoid, "large_magnitude", large))
    cases.append(unary_case("relu", torch.relu, "rank2", randn(3, 5)))
    shapes = [
        ("same_shape", (2, 3, 4, 4), (2, 3, 4, 4)),
        ("broadcast_b_channels", (2, 3, 4, 4), (3, 1, 1)),
        ("broadcast_a_lower_rank", (4,), (2, 3, 4)),
        ("broadcast_both", (3, 1), (1, 4)),
        ("broadcast_column", (5, 1), (5, 6)),
        ("broadcast_one_element", (2, 3), (1,)),
    ]
    for op, fn in (("add", torch.add), ("sub", torch.sub), ("mul", torch.mul)):
        for name, sa, sb in shapes:
            cases.append(binary_case(op, fn, name, sa, sb))
    return cases


# ---------------------------------------------------------------------------------------- linear


def linear_case(name, x_shape, out_f, bias):
    in_f = x_shape[-1]
    x = randn(*x_shape)
    w = randn(out_f, in_f, scale=0.5)
    b = randn(out_f) if bias else None
    y = F.linear(d(x), d(w), None if b is None else d(b))
    return case("linear", name, {}, [x, w, b], [y])


def dropout_case(name, x_shape, p, mode):
    x = randn(*x_shape)
    # Eval mode, or p = 0 in train mode: dropout is the identity, so the case is deterministic.
    y = F.dropout(d(x), p, training=mode == "train")
    return case("dropout", name, {"p": p}, [x], [y], mode)


def linear():
    return [
        linear_case("bias", (3, 8), 5, True),
        linear_case("no_bias", (3, 8), 5, False),
        linear_case("rank3_input", (2, 3, 6), 4, True),
        linear_case("rank1_input", (7,), 3, True),
        linear_case("one_output_head", (4, 16), 1, True),
        dropout_case("eval_p0.5", (2, 3, 4, 4), 0.5, "eval"),
        dropout_case("eval_p0.3_rank2", (4, 6), 0.3, "eval"),
        dropout_case("train_p0", (3, 5), 0.0, "train"),
    ]


# ---------------------------------------------------------------------------------------- layout


def flatten_case(name, x_shape, axis):
    x = randn(*x_shape)
    return case("flatten", name, {"axis": axis}, [x], [torch.flatten(d(x), axis)])


def concat_case(name, shapes, axis):
    xs = [randn(*s) for s in shapes]
    return case("concat", name, {"axis": axis}, xs, [torch.cat([d(x) for x in xs], axis)])


def layout():
    return [
        flatten_case("nchw_axis1", (2, 3, 2, 2), 1),
        flatten_case("pooled_axis1", (2, 5, 1, 1), 1),
        flatten_case("axis2", (2, 3, 2, 2), 2),
        flatten_case("axis0", (2, 3, 2), 0),
        flatten_case("rank2_axis1", (3, 4), 1),
        concat_case("axis1_two", [(2, 3), (2, 4)], 1),
        concat_case("axis1_three", [(2, 3), (2, 1), (2, 2)], 1),
        concat_case("axis0", [(1, 3), (2, 3)], 0),
        concat_case("axis_negative_nchw", [(1, 2, 2, 2), (1, 2, 2, 3)], -1),
        concat_case("axis1_nchw", [(1, 2, 2, 2), (1, 3, 2, 2)], 1),
    ]


# -------------------------------------------------------------------------------------- distance


def l2_case(name, x, axis=1, eps=1e-12):
    return case("l2Normalize", name, {"axis": axis, "eps": eps}, [x], [F.normalize(d(x), p=2.0, dim=axis, eps=eps)])


def euclid_case(name, a, b, eps=1e-12):
    # As documented in ops/distance.ts (not F.pairwise_distance, which adds eps to the difference).
    y = torch.sqrt(((d(a) - d(b)) ** 2).sum(1, keepdim=True) + eps)
    return case("euclideanDistance", name, {"eps": eps}, [a, b], [y])


def cosine_case(name, a, b, eps=1e-8):
    y = F.cosine_similarity(d(a), d(b), dim=1, eps=eps).unsqueeze(1)
    return case("cosineSimilarity", name, {"eps": eps}, [a, b], [y])


def distance():
    x = randn(4, 6)
    x[1] = 0.0
    tiny = randn(3, 4)
    tiny[0] = 1e-13  # norm 2e-13 < eps: divided by eps, not by the norm
    a, b = randn(5, 8), randn(5, 8)
    b[2] = a[2]
    b[4] = -a[4]
    ca, cb = randn(4, 6), randn(4, 6)
    ca[1] = 0.0
    cb[3] = 2.5 * ca[3]
    # Norms below eps: torch 1.13 clamps each norm separately, max(|a|, eps) * max(|b|, eps).
    sa = randn(3, 4, scale=1e-5)
    sb = randn(3, 4, scale=1e-5)
    sb[2] = randn(4)
    return [
        l2_case("rows_with_zero_row", x),
        l2_case("rows_below_eps", tiny),
        l2_case("axis_negative_rank3", randn(2, 3, 4), axis=-1),
        l2_case("axis1_rank3_eps1e-3", randn(2, 3, 4, scale=1e-3), eps=1e-3),
        euclid_case("with_equal_row", a, b),
        euclid_case("eps1e-6_with_equal_row", a, b, eps=1e-6),
        euclid_case("single_column", randn(3, 1), randn(3, 1)),
        cosine_case("with_zero_and_parallel_rows", ca, cb),
        cosine_case("opposite_rows", a, b),
        cosine_case("norms_below_eps", sa, sb),
    ]


# ---------------------------------------------------------------------------------------- reduce


def reduce_case(op, name, x_shape, axes, keep):
    x = randn(*x_shape)
    fn = torch.mean if op == "reduceMean" else torch.sum
    dims = axes if axes else list(range(len(x_shape)))
    y = fn(d(x), dim=dims, keepdim=keep)
    return case(op, name, {"axes": axes, "keepDims": keep}, [x], [y])


def reduce():
    cases = []
    for op in ("reduceMean", "reduceSum"):
        cases += [
            reduce_case(op, "spatial_keepdims", (2, 3, 4, 5), [2, 3], True),
            reduce_case(op, "spatial_dropdims", (2, 3, 4, 5), [2, 3], False),
            reduce_case(op, "batch_and_spatial_keepdims", (2, 3, 2, 3), [0, 2, 3], True),
            reduce_case(op, "negative_axis_dropdims", (3, 4), [-1], False),
            reduce_case(op, "axis0_keepdims", (3, 4), [0], True),
            reduce_case(op, "all_dropdims_scalar", (3, 4), [], False),
            reduce_case(op, "all_keepdims", (2, 3, 2), [], True),
        ]
    return cases


# ------------------------------------------------------------------------------------------ loss


def bce_case(name, z, t):
    y = torch.nn.BCEWithLogitsLoss()(d(z), d(t))
    return case("bceWithLogits", name, {}, [z, t], [y])


def contrastive_case(name, dist, y, margin=1.0):
    # As documented in ops/loss.ts: y = 1 for a same pair.
    dd, yy = d(dist), d(y)
    loss = (yy * dd**2 + (1 - yy) * torch.clamp(margin - dd, min=0) ** 2).mean() / 2
    return case("contrastiveLoss", name, {"margin": margin}, [dist, y], [loss])


def triplet_case(name, a, p, n, margin=1.0, eps=1e-6):
    loss = torch.nn.TripletMarginLoss(margin=margin, p=2.0, eps=eps)(d(a), d(p), d(n))
    return case("tripletLoss", name, {"margin": margin, "eps": eps}, [a, p, n], [loss])


def loss():
    labels = torch.tensor([[1.0], [0.0], [1.0], [0.0], [1.0], [0.0]])
    big = torch.tensor([[100.0], [100.0], [-100.0], [-100.0], [30.0], [-1e4]])
    a, p, n = randn(5, 8), randn(5, 8), randn(5, 8)
    p[1] = a[1]
    n[3] = a[3]
    ta, tp, tn = randn(4, 3), randn(4, 3), randn(4, 3)
    tp = ta + 0.01 * tp  # positives close to their anchors: some hinges are inactive
    return [
        bce_case("column_hard_labels", randn(6, 1, scale=2.0), labels),
        bce_case("large_logits", big, labels),
        bce_case("soft_targets_rank1", randn(5), torch.rand(5)),
        bce_case("rank2_matrix", randn(3, 4), (torch.rand(3, 4) > 0.5).float()),
        contrastive_case("margin1", torch.rand(6, 1) * 1.5, labels),
        contrastive_case("margin2_beyond_margin", torch.tensor([[0.0], [0.5], [2.5], [3.0], [1e-6], [1.999]]), labels, 2.0),
        contrastive_case("all_same", torch.rand(4, 1), torch.ones(4, 1)),
        triplet_case("margin1_with_equal_rows", a, p, n),
        triplet_case("margin0.5_some_inactive", ta, tp, tn, margin=0.5),
        triplet_case("eps0_margin2", randn(3, 4), randn(3, 4), randn(3, 4), margin=2.0, eps=0.0),
    ]


FAMILIES = {
    "conv": conv,
    "norm": norm,
    "pool": pool,
    "elementwise": elementwise,
    "linear": linear,
    "layout": layout,
    "distance": distance,
    "reduce": reduce,
    "loss": loss,
}

# ---------------------------------------------------------------------------------------- output


def fmt(v):
    """Shortest decimal that reads back as the same float32 (also through a float64 parse)."""
    x = np.float32(v)
    if not np.isfinite(x):
        raise ValueError(f"non-finite value {x} cannot be written to JSON")
    s = str(x)
    if s.endswith(".0"):
        s = s[:-2]
    if np.float32(float(s)) != x or np.signbit(np.float32(float(s))) != np.signbit(x):
        s = "%.9g" % x
    assert np.float32(float(s)) == x, (s, x)
    return s


def write(v):
    if isinstance(v, T):
        t = v.value
        data = ", ".join(fmt(x) for x in t.reshape(-1).tolist())
        return '{"shape": %s, "data": [%s]}' % (json.dumps(list(t.shape)), data)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {write(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(write(x) for x in v) + "]"
    return json.dumps(v)


def write_case(c):
    # One key per line keeps diffs readable; tensors stay on one line each.
    return "    {\n" + ",\n".join(f"      {json.dumps(k)}: {write(v)}" for k, v in c.items()) + "\n    }"


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for family, make in FAMILIES.items():
        torch.manual_seed(0)
        cases = make()
        names = [(c["op"], c["name"]) for c in cases]
        assert len(set(names)) == len(names), f"{family}: duplicate case names"
        text = (
            "{\n"
            f'  "generator": "tools/reference/conformance.py",\n'
            f'  "torch": {json.dumps(torch.__version__)},\n'
            '  "cases": [\n' + ",\n".join(write_case(c) for c in cases) + "\n  ]\n}\n"
        )
        json.loads(text)
        path = os.path.join(OUT_DIR, f"{family}.json")
        with open(path, "w") as f:
            f.write(text)
        total += len(text)
        ops = {}
        for c in cases:
            ops[c["op"]] = ops.get(c["op"], 0) + 1
        print(f"{family:12} {len(text):>8} bytes  " + ", ".join(f"{k} {v}" for k, v in ops.items()))
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()

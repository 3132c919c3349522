"""Op conformance cases for @siamese/core: inputs, attrs and expected outputs from PyTorch.

Writes packages/core/conformance/<family>.json, one file per op family of packages/core/src/ops
(conv, norm, pool, elementwise, linear, layout, distance, reduce, loss, identity), and grad.json for the ops
whose only use is gradients (conv2dInputGrad, conv2dFilterGrad, maxPool2dGrad, batchNormTrain,
batchNormGrad; their references come from torch autograd). Every backend runs every case and
compares with `closeEnough` from packages/core/src/conformance.

Each case: `op`, `name`, `mode` ("eval", or "train" for batchNorm/dropout training behaviour),
`attrs` (every attribute of the IR op, written out in full as its `attrs()` returns them),
`inputs` (one tensor per node input, in the op's input order, `null` for an omitted optional
input; concat's variadic input is one entry per tensor, as a node lists them; a `like` input is
zeros of the shape it gives), `outputs` (every output of the op, in its order),
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
import math
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
    return torch.randn(shape) * scale


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
    return cases + training_elementwise(edge, large)


def away_from_zero(*shape):
    """Divisors: magnitudes in [0.5, 1.5), either sign."""
    return (torch.rand(shape) + 0.5) * torch.where(torch.rand(shape) < 0.5, -1.0, 1.0)


def relu_grad_ref(a, b):
    return torch.where(b > 0, a, torch.zeros((), dtype=a.dtype))


def with_zeros(t, every=3):
    """t with every `every`-th element exactly 0 (relu's kink: b > 0 is strict)."""
    t = t.clone()
    t.view(-1)[::every] = 0.0
    return t


def training_elementwise(edge, large):
    cases = []
    for name, sa, sb in [
        ("same_shape", (2, 3, 4, 4), (2, 3, 4, 4)),
        ("broadcast_b_channels", (2, 3, 4, 4), (3, 1, 1)),
        ("broadcast_a_lower_rank", (4,), (2, 3, 4)),
        ("broadcast_both", (3, 1), (1, 4)),
        ("broadcast_scalar_b", (2, 3), ()),
    ]:
        a, b = randn(*sa), away_from_zero(*sb)
        cases.append(case("div", name, {}, [a, b], [d(a) / d(b)]))
    a, b = edge, away_from_zero(len(edge))
    cases.append(case("div", "signed_zeros_and_tiny", {}, [a, b], [d(a) / d(b)]))

    positive = torch.tensor([0.0, 1e-7, 1e-3, 0.25, 1.0, 2.0, 3.5, 100.0, 1e4, 3e38])
    cases.append(unary_case("sqrt", torch.sqrt, "nchw", torch.rand(2, 3, 4, 4) * 4))
    cases.append(unary_case("sqrt", torch.sqrt, "edges", positive))
    cases.append(unary_case("exp", torch.exp, "nchw", randn(2, 3, 4, 4)))
    cases.append(unary_case("exp", torch.exp, "large_magnitude", torch.tensor([-100.0, -30.0, -10.0, -1e-3, 0.0, 1e-3, 1.0, 10.0, 30.0, 80.0])))
    cases.append(unary_case("sign", torch.sign, "nchw", randn(2, 3, 4, 4)))
    cases.append(unary_case("sign", torch.sign, "edges", edge))
    cases.append(unary_case("sign", torch.sign, "large_magnitude", large))

    for name, x, alpha, beta in [
        ("nchw_affine", randn(2, 3, 4, 4), 2.5, -1.0),
        ("negate", edge, -1.0, 0.0),
        ("add_constant_rank2", randn(3, 5), 1.0, 1e-5),
        ("zero_alpha", randn(4), 0.0, 3.0),
        ("identity", randn(2, 3), 1.0, 0.0),
    ]:
        cases.append(case("scale", name, {"alpha": alpha, "beta": beta}, [x], [alpha * d(x) + beta]))

    bounds = torch.tensor([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0])
    for name, x, lo, hi in [
        ("min_only", randn(2, 3, 4, 4), 0.0, None),
        ("max_only", randn(3, 5), None, 1.5),
        ("both", randn(2, 3, 4, 4, scale=2.0), -1.0, 1.0),
        ("both_at_bounds", bounds, -1.0, 1.5),
        ("min_equals_max", randn(6), 0.5, 0.5),
        ("min_only_negative", large, -30.0, None),
    ]:
        cases.append(case("clamp", name, {"min": lo, "max": hi}, [x], [torch.clamp(d(x), min=lo, max=hi)]))

    for name, sa, sb in [
        ("same_shape", (2, 3, 4, 4), (2, 3, 4, 4)),
        ("broadcast_b_channels", (2, 3, 4, 4), (3, 1, 1)),
        ("broadcast_a_lower_rank", (4,), (2, 3, 4)),
        ("broadcast_b_lower_rank", (2, 3, 4), (4,)),
        ("broadcast_both", (3, 1), (1, 4)),
    ]:
        a, b = randn(*sa), with_zeros(randn(*sb))
        cases.append(case("reluGrad", name, {}, [a, b], [relu_grad_ref(d(a), d(b))]))
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
    ] + [
        matmul_case("plain", 3, 5, 4, False, False),
        matmul_case("trans_a", 3, 5, 4, True, False),
        matmul_case("trans_b", 3, 5, 4, False, True),
        matmul_case("trans_both", 3, 5, 4, True, True),
        # Linear's weight gradient dy^T @ x and input gradient dy @ weight.
        matmul_case("trans_a_weight_grad", 5, 8, 6, True, False),
        matmul_case("outer_product", 4, 1, 3, False, False),
        matmul_case("inner_product", 1, 7, 1, False, True),
    ]


def matmul_case(name, m, k, n, trans_a, trans_b):
    """y [m, n] = op(a) @ op(b), with a and b stored transposed where the flag says so."""
    a = randn(*((k, m) if trans_a else (m, k)))
    b = randn(*((n, k) if trans_b else (k, n)))
    y = (d(a).t() if trans_a else d(a)) @ (d(b).t() if trans_b else d(b))
    return case("matmul", name, {"transA": trans_a, "transB": trans_b}, [a, b], [y])


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
    ] + training_layout()


def like(*shape):
    """A `like` input: only its shape is read."""
    return torch.zeros(shape)


def slice_case(name, x_shape, axis, start, end):
    x = randn(*x_shape)
    y = d(x).narrow(axis, start, end - start)
    return case("slice", name, {"axis": axis, "start": start, "end": end}, [x], [y])


def reshape_like_case(name, x_shape, like_shape):
    x = randn(*x_shape)
    return case("reshapeLike", name, {}, [x, like(*like_shape)], [d(x).reshape(like_shape)])


def broadcast_to_case(name, x_shape, insert_axes, like_shape):
    x = randn(*x_shape)
    r = len(like_shape)
    inserted = {a % r for a in insert_axes}
    dims = iter(x_shape)
    expanded = [1 if i in inserted else next(dims) for i in range(r)]
    y = d(x).reshape(expanded).expand(*like_shape)
    return case("broadcastTo", name, {"insertAxes": insert_axes}, [x, like(*like_shape)], [y])


def sum_to_case(name, x_shape, like_shape):
    x = randn(*x_shape)
    y = d(x)
    lead = len(x_shape) - len(like_shape)
    if lead:
        y = y.sum(dim=list(range(lead)))
    stretched = [i for i, n in enumerate(like_shape) if n == 1 and x_shape[lead + i] != 1]
    if stretched:
        y = y.sum(dim=stretched, keepdim=True)
    return case("sumTo", name, {}, [x, like(*like_shape)], [y.reshape(like_shape)])


def training_layout():
    return [
        slice_case("axis0_rank2", (5, 3), 0, 1, 4),
        slice_case("axis0_nchw", (4, 2, 3, 3), 0, 2, 4),
        slice_case("axis1_rank2", (2, 7), 1, 2, 5),
        # The backward of concat on channels.
        slice_case("axis1_nchw", (2, 5, 3, 3), 1, 1, 4),
        slice_case("axis1_nchw_whole", (1, 3, 2, 2), 1, 0, 3),
        slice_case("axis2_nchw", (1, 2, 5, 3), 2, 3, 5),
        slice_case("axis_negative_nchw", (1, 2, 2, 3), -1, 0, 2),
        reshape_like_case("unflatten_nchw", (2, 12), (2, 3, 2, 2)),
        reshape_like_case("flatten_nchw", (2, 3, 2, 2), (2, 12)),
        reshape_like_case("pooled_to_rank2", (2, 5, 1, 1), (2, 5)),
        reshape_like_case("rank2_to_pooled", (2, 5), (2, 5, 1, 1)),
        reshape_like_case("rank1_to_rank2", (6,), (2, 3)),
        # The backward of a reduction over batch and space (batchNorm parameters, reduceMean).
        broadcast_to_case("channels_to_nchw", (3,), [0, 2, 3], (2, 3, 4, 4)),
        broadcast_to_case("spatial_dropdims_to_nchw", (2, 3), [2, 3], (2, 3, 4, 5)),
        broadcast_to_case("keepdims_to_nchw", (2, 3, 1, 1), [], (2, 3, 4, 5)),
        broadcast_to_case("scalar_to_rank2", (), [0, 1], (2, 3)),
        broadcast_to_case("column_stretch", (3, 1), [], (3, 4)),
        broadcast_to_case("negative_axis", (3, 4), [-1], (3, 4, 5)),
        broadcast_to_case("same_shape", (2, 3), [], (2, 3)),
        sum_to_case("nchw_to_channel_bias", (2, 3, 4, 4), (3, 1, 1)),
        sum_to_case("nchw_to_keepdims_channels", (2, 3, 4, 4), (1, 3, 1, 1)),
        sum_to_case("leading_axes", (2, 3, 4), (4,)),
        sum_to_case("rank2_to_column", (3, 4), (3, 1)),
        sum_to_case("rank2_to_row", (3, 4), (1, 4)),
        sum_to_case("to_scalar", (2, 3), ()),
        sum_to_case("to_one_element", (2, 3), (1,)),
        sum_to_case("same_shape", (5, 6), (5, 6)),
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
    return cases + [
        numel_case("all", (2, 3, 4, 5), []),
        numel_case("batch_and_spatial", (2, 3, 4, 5), [0, 2, 3]),
        numel_case("negative_axis_rank2", (3, 7), [-1]),
        numel_case("axis0_rank2", (6, 2), [0]),
        numel_case("all_rank1", (9,), []),
    ]


def numel_case(name, x_shape, axes):
    x = randn(*x_shape)
    n = 1
    for a in axes or range(len(x_shape)):
        n *= x_shape[a]
    return case("numel", name, {"axes": axes}, [x], [torch.tensor(float(n))])


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


# ------------------------------------------------------------------------------------------ grad


def conv_grad_cases(name, x_shape, w_shape, **kw):
    """conv2dInputGrad and conv2dFilterGrad of one convolution, from the same x, weight and dy."""
    x = randn(*x_shape)
    w = randn(*w_shape, scale=0.5)
    a = conv_attrs(**kw)
    xd, wd = d(x).requires_grad_(), d(w).requires_grad_()
    y = F.conv2d(xd, wd, None, a["stride"], a["padding"], a["dilation"], a["groups"])
    dy = randn(*y.shape)
    dx, dw = torch.autograd.grad(y, (xd, wd), d(dy))
    return [
        case("conv2dInputGrad", name, {**a, "size": list(x_shape[2:])}, [dy, w], [dx]),
        case("conv2dFilterGrad", name, {**a, "size": list(w_shape[2:])}, [x, dy], [dw]),
    ]


def maxpool_grad_case(name, x, **kw):
    a = pool_attrs(**kw)
    xd = d(x).requires_grad_()
    y = F.max_pool2d(xd, a["kernel"], a["stride"], a["padding"], a["dilation"], ceil_mode=a["ceilMode"])
    dy = randn(*y.shape)
    (dx,) = torch.autograd.grad(y, xd, d(dy))
    return case("maxPool2dGrad", name, a, [x, dy], [dx])


def ties(*shape, low=-2, high=3):
    """Small integers: windows with several equal maxima (PyTorch routes dy to the first, row-major)."""
    return torch.randint(low, high, shape).to(torch.float32)


def bn_inputs(x_shape, shift):
    c = x_shape[1]
    x = randn(*x_shape, scale=2.0) + shift
    return x, randn(c), randn(c), randn(c, scale=0.5), torch.rand(c) + 0.5


def bn_axes(x):
    return [0] + list(range(2, x.dim()))


def bn_train_case(name, x_shape, eps=1e-5, momentum=0.1, shift=0.0):
    x, w, b, rm, rv = bn_inputs(x_shape, shift)
    xd = d(x)
    rm64, rv64 = d(rm), d(rv)  # updated in place by F.batch_norm
    y = F.batch_norm(xd, rm64, rv64, d(w), d(b), training=True, momentum=momentum, eps=eps)
    mean = xd.mean(bn_axes(xd))
    inv_std = 1.0 / torch.sqrt(xd.var(bn_axes(xd), unbiased=False) + eps)
    a = {"eps": eps, "momentum": momentum}
    # mode "eval": the op is train-mode batchNorm whatever the run's mode; it has no buffers of its own.
    return case("batchNormTrain", name, a, [x, w, b, rm, rv], [y, mean, inv_std, rm64, rv64])


def bn_grad_case(name, x_shape, eps=1e-5, shift=0.0):
    x, w, b, _, _ = bn_inputs(x_shape, shift)
    xd, wd, bd = d(x).requires_grad_(), d(w).requires_grad_(), d(b).requires_grad_()
    y = F.batch_norm(xd, None, None, wd, bd, training=True, eps=eps)
    dy = randn(*x_shape)
    dx, dw, db = torch.autograd.grad(y, (xd, wd, bd), d(dy))
    # The saved statistics as a forward hands them over: float32.
    axes = bn_axes(xd)
    mean = T(xd.mean(axes)).value
    inv_std = T(1.0 / torch.sqrt(xd.var(axes, unbiased=False) + eps)).value
    # The op's documented formula on those float32 inputs agrees with autograd.
    shape = [1, -1] + [1] * (x.dim() - 2)
    xhat = (xd.detach() - d(mean).reshape(shape)) * d(inv_std).reshape(shape)
    dyd = d(dy)
    doc_dx = (d(w) * d(inv_std)).reshape(shape) * (
        dyd - dyd.mean(axes, keepdim=True) - xhat * (dyd * xhat).mean(axes, keepdim=True)
    )
    assert torch.allclose(doc_dx, dx, rtol=1e-5, atol=1e-6), name
    assert torch.allclose((dyd * xhat).sum(axes), dw, rtol=1e-5, atol=1e-6), name
    return case("batchNormGrad", name, {}, [dy, x, w, mean, inv_std], [dx, dw, db])


def grad():
    cases = []
    for args, kw in [
        # ResNet stem, batch 2; and non-square odd sizes where the last row and column are dropped.
        (("stride2_pad3_k7_batch2", (2, 3, 16, 16), (4, 3, 7, 7)), dict(stride=2, padding=3)),
        (("stride2_pad3_k7_nonsquare_odd", (1, 3, 11, 14), (2, 3, 7, 7)), dict(stride=2, padding=3)),
        (("k3_stride1_pad1_batch2", (2, 4, 6, 6), (5, 4, 3, 3)), dict(padding=1)),
        (("k3_stride2_pad1_even", (1, 3, 8, 8), (4, 3, 3, 3)), dict(stride=2, padding=1)),
        (("k3_stride2_pad1_odd_batch2", (2, 4, 7, 7), (4, 4, 3, 3)), dict(stride=2, padding=1)),
        (("k3_stride2_pad1_nonsquare", (1, 3, 7, 10), (4, 3, 3, 3)), dict(stride=2, padding=1)),
        (("k3_no_padding_nonsquare", (1, 2, 5, 6), (3, 2, 3, 3)), {}),
        # Downsample 1x1 stride 2: the same dy fits an odd and an even input (size tells them apart);
        # with an even input the last row and column get no gradient.
        (("k1_stride2_odd_nonsquare", (1, 4, 7, 9), (6, 4, 1, 1)), dict(stride=2)),
        (("k1_stride2_even_drops_last_batch2", (2, 4, 8, 6), (6, 4, 1, 1)), dict(stride=2)),
        (("k1_stride1_batch2", (2, 6, 4, 4), (5, 6, 1, 1)), {}),
        # Dilation (replace_stride_with_dilation), also with stride and on a non-square input.
        (("k3_dilation2_pad2", (1, 3, 9, 9), (4, 3, 3, 3)), dict(padding=2, dilation=2)),
        (("k3_dilation4_pad4", (1, 2, 12, 12), (3, 2, 3, 3)), dict(padding=4, dilation=4)),
        (("k3_dilation2_stride2_nonsquare", (1, 2, 9, 11), (3, 2, 3, 3)), dict(stride=2, padding=2, dilation=2)),
        # Groups (ResNeXt) and depthwise.
        (("k3_groups2_pad1", (1, 4, 6, 6), (6, 2, 3, 3)), dict(padding=1, groups=2)),
        (("k3_groups4_stride2_pad1", (1, 8, 7, 7), (8, 2, 3, 3)), dict(stride=2, padding=1, groups=4)),
        (("k3_groups2_dilation2_pad2", (1, 4, 8, 8), (4, 2, 3, 3)), dict(padding=2, dilation=2, groups=2)),
        (("k3_depthwise_pad1_batch2", (2, 4, 5, 5), (4, 1, 3, 3)), dict(padding=1, groups=4)),
        (("k3_depthwise_multiplier2_stride2", (1, 3, 7, 6), (6, 1, 3, 3)), dict(stride=2, padding=1, groups=3)),
        # Pair attributes that differ per axis, non-square kernel.
        (("k3x5_stride1x2_pad0x2", (1, 3, 10, 20), (4, 3, 3, 5)), dict(stride=[1, 2], padding=[0, 2])),
    ]:
        cases += conv_grad_cases(*args, **kw)

    cases += [
        # ResNet stem pool: 3x3 windows overlap by one row and column, so contributions add up.
        maxpool_grad_case("k3_stride2_pad1_even", randn(1, 2, 8, 8), kernel=3, stride=2, padding=1),
        maxpool_grad_case("k3_stride2_pad1_odd_ties_batch2", ties(2, 2, 9, 9), kernel=3, stride=2, padding=1),
        maxpool_grad_case("k3_stride2_pad1_nonsquare", randn(1, 3, 7, 10), kernel=3, stride=2, padding=1),
        # Every window ties everywhere: dy goes to each window's first element inside the input.
        maxpool_grad_case("k3_stride2_pad1_constant", torch.full((1, 1, 5, 6), -1.0), kernel=3, stride=2, padding=1),
        # All negative: padding must never win (as -inf), not act as 0.
        maxpool_grad_case("k3_stride2_pad1_all_negative", randn(1, 2, 6, 5) - 5.0, kernel=3, stride=2, padding=1),
        maxpool_grad_case("k3_stride2_pad1_all_negative_ties", ties(1, 2, 6, 5, low=-4, high=-1), kernel=3, stride=2, padding=1),
        maxpool_grad_case("k3_stride1_pad1_overlap_ties", ties(1, 2, 5, 6), kernel=3, stride=1, padding=1),
        maxpool_grad_case("k3_stride2_pad1_ceil", randn(1, 2, 8, 8), kernel=3, stride=2, padding=1, ceil=True),
        maxpool_grad_case("k3_stride2_pad1_ceil_ties", ties(1, 2, 8, 8), kernel=3, stride=2, padding=1, ceil=True),
        maxpool_grad_case("k2_stride2_ceil_odd_ties", ties(1, 2, 5, 5), kernel=2, stride=2, ceil=True),
        # Ceil mode where the last window would start in the right padding and is dropped.
        maxpool_grad_case("k3_stride3_pad1_ceil_drops_last", randn(1, 1, 5, 5) - 5.0, kernel=3, stride=3, padding=1, ceil=True),
        # Floor mode leaves the last column out.
        maxpool_grad_case("k2_default_stride_drops_last", ties(1, 2, 6, 7), kernel=2),
        maxpool_grad_case("k3_stride1_pad1_dilation2", randn(1, 2, 7, 7), kernel=3, stride=1, padding=1, dilation=2),
        maxpool_grad_case("k3_stride1_pad1_dilation2_ties", ties(1, 1, 7, 7), kernel=3, stride=1, padding=1, dilation=2),
        maxpool_grad_case("k2x3_stride1x2_ties", ties(1, 1, 6, 9), kernel=[2, 3], stride=[1, 2]),
    ]

    cases += [
        bn_train_case("rank4", (4, 3, 5, 6), shift=1.5),
        bn_train_case("rank4_eps1e-3", (3, 2, 4, 4), eps=1e-3),
        bn_train_case("rank4_momentum0.3", (2, 3, 3, 5), momentum=0.3),
        bn_train_case("rank4_batch1", (1, 2, 3, 3)),
        bn_train_case("rank2", (6, 4)),
        bn_train_case("rank3", (4, 3, 5)),
        bn_grad_case("rank4", (4, 3, 5, 6), shift=1.5),
        bn_grad_case("rank4_eps1e-3", (3, 2, 4, 4), eps=1e-3),
        bn_grad_case("rank4_batch1", (1, 2, 3, 3)),
        bn_grad_case("rank2", (6, 4)),
        bn_grad_case("rank3", (4, 3, 5)),
    ]
    return cases


# -------------------------------------------------------------------------------------- identity


def one_hot_ref(labels, classes):
    """1 where the column index equals the float32 label; a label that is no column index gives a zero row."""
    return (d(labels).unsqueeze(1) == torch.arange(classes, dtype=torch.float64)).to(torch.float64)


def margin_logits_ref(cos, labels, kind, s, m, easy):
    """As insightface's ArcMarginProduct / AddMarginProduct compute it (float64), one-hot from one_hot_ref."""
    c = d(cos)
    if kind == "normface":
        target = c
    elif kind == "cosface":
        target = c - m
    else:
        sine = torch.sqrt((1.0 - c**2).clamp(0, 1))
        phi = c * math.cos(m) - sine * math.sin(m)
        if easy:
            target = torch.where(c > 0, phi, c)
        else:
            target = torch.where(c > math.cos(math.pi - m), phi, c - math.sin(math.pi - m) * m)
    hot = one_hot_ref(labels, cos.shape[1])
    return s * (hot * target + (1 - hot) * c)


def cosines(n, classes, targets=None, labels=None):
    """Cosines in [-1, 1] [n, classes] and float32 labels; each row's target cosine set where given."""
    cos = torch.rand(n, classes) * 2 - 1
    if labels is None:
        labels = torch.randint(0, classes, (n,))
    labels = torch.as_tensor(labels, dtype=torch.float32)
    if targets is not None:
        for i, t in enumerate(targets):
            if 0 <= labels[i] < classes:
                cos[i, int(labels[i])] = t
    return cos, labels


def margin_case(name, kind, cos, labels, scale=30.0, margin=None, easy=False):
    m = {"normface": 0.0, "cosface": 0.35, "arcface": 0.5}[kind] if margin is None else margin
    a = {"kind": kind, "scale": scale, "margin": m, "easyMargin": easy}
    return case("marginLogits", name, a, [cos, labels], [margin_logits_ref(cos, labels, kind, scale, m, easy)])


def cross_entropy_case(name, z, labels):
    loss = F.cross_entropy(d(z), labels.to(torch.int64))
    return case("softmaxCrossEntropy", name, {}, [z, labels.to(torch.float32)], [loss])


def softmax_case(name, x, axis=-1):
    return case("softmax", name, {"axis": axis}, [x], [torch.softmax(d(x), dim=axis)])


def one_hot_case(name, labels, classes):
    labels = torch.as_tensor(labels, dtype=torch.float32)
    return case("oneHot", name, {}, [labels, like(len(labels), classes)], [one_hot_ref(labels, classes)])


def identity():
    th = math.cos(math.pi - 0.5)  # arcface's threshold for m = 0.5: -0.8776
    th2 = math.cos(math.pi - 0.2)  # and for m = 0.2: -0.9801
    # Target cosines on both sides of the threshold, at +-1 and around 0 (easyMargin's switch).
    arc_targets = [0.9, 0.3, -0.5, th + 1e-3, th - 1e-3, -0.95, 1.0, -1.0]
    easy_targets = [0.4, 1e-3, 0.0, -1e-3, -0.6, 1.0, -1.0]
    return [
        margin_case("normface_s30", "normface", *cosines(4, 5)),
        margin_case("normface_s64_one_class", "normface", *cosines(3, 1), scale=64.0),
        margin_case("cosface_defaults", "cosface", *cosines(5, 6)),
        margin_case("cosface_s64_m0.4_at_plus_minus_one", "cosface", *cosines(4, 3, [1.0, -1.0, 0.0, 0.35]), scale=64.0, margin=0.4),
        margin_case("cosface_one_class", "cosface", *cosines(3, 1)),
        margin_case("cosface_label_outside_classes", "cosface", *cosines(3, 4, labels=[2, -1, 4])),
        margin_case("arcface_defaults_both_sides_of_threshold", "arcface", *cosines(8, 5, arc_targets)),
        margin_case("arcface_easy_margin", "arcface", *cosines(7, 4, easy_targets), easy=True),
        margin_case("arcface_easy_margin_s64_m0.3", "arcface", *cosines(6, 5), scale=64.0, margin=0.3, easy=True),
        margin_case("arcface_s64_m0.2_both_sides_of_threshold", "arcface", *cosines(4, 3, [th2 + 1e-3, th2 - 1e-3, 0.5, -0.99]), scale=64.0, margin=0.2),
        margin_case("arcface_m0", "arcface", *cosines(4, 3, [0.5, -1.0, 1.0, -0.2]), margin=0.0),
        margin_case("arcface_one_class", "arcface", *cosines(4, 1, [0.7, -0.9, -0.5, 1.0], labels=[0, 0, 0, 0])),
        margin_case("arcface_s16_m0.7_wide", "arcface", *cosines(3, 12), scale=16.0, margin=0.7),
        cross_entropy_case("random", randn(4, 5, scale=2.0), torch.randint(0, 5, (4,))),
        cross_entropy_case(
            "large_magnitude",
            torch.tensor([[100.0, -100.0, 0.0], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [88.0, 90.0, -30.0]]),
            torch.tensor([0, 2, 1, 0]),
        ),
        cross_entropy_case("one_class", randn(3, 1), torch.zeros(3)),
        cross_entropy_case("one_row", randn(1, 6), torch.tensor([5])),
        cross_entropy_case("same_label", randn(5, 3), torch.full((5,), 1)),
        # What it gets from marginLogits: s = 64 times cosines.
        cross_entropy_case("scaled_cosines_s64", 64.0 * (torch.rand(6, 10) * 2 - 1), torch.randint(0, 10, (6,))),
        softmax_case("rank2_last_axis", randn(3, 5, scale=2.0)),
        softmax_case("rank2_axis1", randn(4, 3), axis=1),
        softmax_case("rank2_axis0", randn(4, 3), axis=0),
        softmax_case("rank3_axis1", randn(2, 3, 4), axis=1),
        softmax_case("large_magnitude", torch.tensor([[100.0, -100.0, 0.0], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]])),
        softmax_case("one_element_axis", randn(4, 1), axis=1),
        one_hot_case("basic", [0, 3, 1, 1, 2], 4),
        one_hot_case("one_class", [0, 0, 0], 1),
        one_hot_case("labels_outside_classes", [-1, 4, 1.5, 3], 4),
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
    "grad": grad,
    "identity": identity,
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

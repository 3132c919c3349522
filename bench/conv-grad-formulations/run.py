#!/usr/bin/python3
"""Conv / BN / MaxPool gradient formulations in plain ONNX (opset 17, plus a few
com.microsoft contrib ops) timed with stock onnxruntime-node CPU, vs PyTorch CPU.

Run with the Debian system python (torch + onnx):   /usr/bin/python3 run.py [filter-regex]
It writes models + data to /tmp/cgf, times them with time.mjs (node), checks every
output against PyTorch (max abs diff) and prints markdown tables.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

torch.set_num_threads(2)
WORK = '/tmp/cgf'
HERE = os.path.dirname(os.path.abspath(__file__))
INT64_MIN = np.iinfo(np.int64).min
FILTER = sys.argv[1] if len(sys.argv) > 1 else None
ROUNDS = int(os.environ.get('ROUNDS', '2'))


# ----------------------------------------------------------------------------- graph builder
class G:
    def __init__(self):
        self.nodes, self.inits, self.n, self.ms = [], [], 0, False

    def t(self):
        self.n += 1
        return f't{self.n}'

    def op(self, typ, inputs, out=None, n_out=1, domain='', **attrs):
        outs = out if isinstance(out, list) else ([out] if out else [self.t() for _ in range(n_out)])
        if domain:
            self.ms = True
        self.nodes.append(helper.make_node(typ, inputs, outs, domain=domain, **attrs))
        return outs[0] if len(outs) == 1 else outs

    def c(self, arr):
        name = self.t()
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def i64(self, lst):
        return self.c(np.array(lst, np.int64))

    def slice(self, x, starts, ends, axes, steps=None, out=None):
        ins = [x, self.i64(starts), self.i64(ends), self.i64(axes)]
        if steps:
            ins.append(self.i64(steps))
        return self.op('Slice', ins, out)

    def reshape(self, x, shape, out=None):
        return self.op('Reshape', [x, self.i64(shape)], out)

    def pad(self, x, pads, out=None):
        return self.op('Pad', [x, self.i64(pads)], out, mode='constant')

    def model(self, inputs, outputs):
        ins = [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in inputs.items()]
        outs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, None) for k in outputs]
        g = helper.make_graph(self.nodes, 'g', ins, outs, self.inits)
        ops = [helper.make_opsetid('', 17)] + ([helper.make_opsetid('com.microsoft', 1)] if self.ms else [])
        m = helper.make_model(g, opset_imports=ops)
        m.ir_version = 8
        return m


# ----------------------------------------------------------------------------- conv formulations
def geom(cs):
    N, C, H, O, k, s, p = cs['N'], cs['C'], cs['H'], cs['O'], cs['k'], cs['s'], cs['p']
    Ho = (H + 2 * p - k) // s + 1
    return N, C, H, O, k, s, p, Ho


def fwd_conv(g, cs, out='Y'):
    _, _, _, _, k, s, p, _ = geom(cs)
    return g.op('Conv', ['X', 'W'], out, kernel_shape=[k, k], strides=[s, s], pads=[p] * 4)


# ---- input gradient
def dx_convflip(g, cs, out='dX'):
    """stride 1: Conv(dY, Transpose(Slice(W, steps -1 on kh,kw), [1,0,2,3]), pads k-1-p)."""
    _, _, _, _, k, s, p, _ = geom(cs)
    assert s == 1
    wf = g.slice('W', [-1, -1], [INT64_MIN, INT64_MIN], [2, 3], [-1, -1])
    wt = g.op('Transpose', [wf], perm=[1, 0, 2, 3])
    q = k - 1 - p
    return g.op('Conv', ['dY', wt], out, kernel_shape=[k, k], pads=[q] * 4)


def dx_convT(g, cs, out='dX'):
    N, C, H, O, k, s, p, Ho = geom(cs)
    op_ = H - ((Ho - 1) * s - 2 * p + k)
    return g.op('ConvTranspose', ['dY', 'W'], out, kernel_shape=[k, k], strides=[s, s], pads=[p] * 4,
                output_padding=[op_, op_])


def dx_zeroins_conv(g, cs, out='dX'):
    """stride s: zero-insert dY (Reshape 6D, Pad, Reshape) then stride-1 Conv with flipped weights."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    assert s > 1
    z = g.reshape('dY', [N, O, Ho, 1, Ho, 1])
    z = g.pad(z, [0, 0, 0, 0, 0, 0, 0, 0, 0, s - 1, 0, s - 1])
    z = g.reshape(z, [N, O, Ho * s, Ho * s])
    op_ = H - ((Ho - 1) * s - 2 * p + k)
    q = k - 1 - p
    end = q + op_ - (s - 1)
    if end < 0:
        z = g.slice(z, [0, 0], [Ho * s + end, Ho * s + end], [2, 3])
        end = 0
    wf = g.slice('W', [-1, -1], [INT64_MIN, INT64_MIN], [2, 3], [-1, -1])
    wt = g.op('Transpose', [wf], perm=[1, 0, 2, 3])
    return g.op('Conv', [z, wt], out, kernel_shape=[k, k], pads=[q, q, end, end])


def polyphase_index(cs):
    """Index map W(flat, + one zero at the end) -> Wbig[s*s*C, O, D, D] (DCR channel order)."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    taps = {}  # phase a -> list of (ky, d)
    for a in range(s):
        taps[a] = [(ky, (a + p - ky) // s) for ky in range(k) if (a + p - ky) % s == 0]
    ds = [d for a in taps for _, d in taps[a]]
    dmin, dmax = min(ds), max(ds)
    D = dmax - dmin + 1
    zero = O * C * k * k
    idx = np.full((s * s * C, O, D, D), zero, np.int64)
    for a in range(s):
        for b in range(s):
            for ky, dy_ in taps[a]:
                for kx, dx_ in taps[b]:
                    for c in range(C):
                        ch = (a * s + b) * C + c
                        idx[ch, :, dy_ - dmin, dx_ - dmin] = np.arange(O) * C * k * k + c * k * k + ky * k + kx
    return idx, dmin, D


def dx_polyphase(g, cs, out='dX'):
    """stride s: one Conv with a DxD kernel producing s*s*C channels (all phases) + DepthToSpace(DCR) + Slice.
    The DxD kernel is Gather(Concat(Reshape(W,[-1]),[0]), const_index)."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    idx, dmin, D = polyphase_index(cs)
    pb = -dmin
    assert pb >= 0
    Hi = -(-H // s)
    pe = Hi - Ho - pb + D - 1
    assert pe >= 0
    wflat = g.reshape('W', [-1])
    wz = g.op('Concat', [wflat, g.c(np.zeros(1, np.float32))], axis=0)
    wbig = g.op('Gather', [wz, g.c(idx)], axis=0)
    y = g.op('Conv', ['dY', wbig], kernel_shape=[D, D], pads=[pb, pb, pe, pe])
    if Hi * s == H:
        return g.op('DepthToSpace', [y], out, blocksize=s, mode='DCR')
    y = g.op('DepthToSpace', [y], blocksize=s, mode='DCR')
    return g.slice(y, [0, 0], [H, H], [2, 3], out=out)


def dx_1x1_insert(g, cs, out='dX'):
    """1x1 stride s, pad 0: Conv1x1(dY, Transpose(W,[1,0,2,3])) -> Pad channels with (s*s-1)*C zeros
    -> DepthToSpace(DCR) -> Slice."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    assert k == 1 and p == 0
    wt = g.op('Transpose', ['W'], perm=[1, 0, 2, 3])
    y = g.op('Conv', ['dY', wt], kernel_shape=[1, 1])
    y = g.pad(y, [0, 0, 0, 0, 0, (s * s - 1) * C, 0, 0])
    y = g.op('DepthToSpace', [y], blocksize=s, mode='DCR')
    if Ho * s == H:
        return g.op('Identity', [y], out)
    return g.slice(y, [0, 0], [H, H], [2, 3], out=out)


# ---- filter gradient
def _win(i, s, Ho):
    return i, i + s * (Ho - 1) + 1


def dw_conv_bac(g, cs, out='dW'):
    """Conv with batch as channels: Conv(Transpose(X,[1,0,2,3]), Transpose(dY,[1,0,2,3]),
    strides=1, dilations=s, pads=p) -> [C,O,k',k'] (Slice to k) -> Transpose [1,0,2,3]."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    xt = g.op('Transpose', ['X'], perm=[1, 0, 2, 3])
    dyt = g.op('Transpose', ['dY'], perm=[1, 0, 2, 3])
    r = g.op('Conv', [xt, dyt], kernel_shape=[Ho, Ho], dilations=[s, s], pads=[p] * 4)
    kk = H + 2 * p - s * (Ho - 1)
    if kk != k:
        r = g.slice(r, [0, 0], [k, k], [2, 3])
    return g.op('Transpose', [r], out, perm=[1, 0, 2, 3])


def _slices(g, xp, k, s, Ho, hax):
    outs = []
    for i in range(k):
        for j in range(k):
            a0, a1 = _win(i, s, Ho)
            b0, b1 = _win(j, s, Ho)
            outs.append(g.slice(xp, [a0, b0], [a1, b1], [hax, hax + 1], [s, s] if s > 1 else None))
    return outs


def _padx(g, x, p, hax, rank=4):
    if p == 0:
        return x
    pads = [0] * (2 * rank)
    pads[hax] = pads[hax + 1] = pads[rank + hax] = pads[rank + hax + 1] = p
    return g.pad(x, pads)


def dw_im2col_nchw(g, cs, out='dW', fused=False):
    """Pad X, k*k strided Slices [N,C,Ho,Wo], Concat axis 1 -> [N,kk*C,HoWo];
    batched MatMul(dY[N,O,HoWo], Transpose(cols,[0,2,1])) (or FusedMatMul transB=1) -> ReduceSum axis 0
    -> Reshape [O,kk,C] -> Transpose [0,2,1] -> Reshape [O,C,k,k]."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    xp = _padx(g, 'X', p, 2)
    cols = g.op('Concat', _slices(g, xp, k, s, Ho, 2), axis=1)
    cols = g.reshape(cols, [N, k * k * C, Ho * Ho])
    dyr = g.reshape('dY', [N, O, Ho * Ho])
    if fused:
        m = g.op('FusedMatMul', [dyr, cols], domain='com.microsoft', transB=1, alpha=1.0)
    else:
        m = g.op('MatMul', [dyr, g.op('Transpose', [cols], perm=[0, 2, 1])])
    r = g.op('ReduceSum', [m, g.i64([0])], keepdims=0)
    r = g.op('Transpose', [g.reshape(r, [O, k * k, C])], perm=[0, 2, 1])
    return g.reshape(r, [O, C, k, k], out=out)


def dw_slices_bmm(g, cs, out='dW', fused=False):
    """Per offset: Slice [N,C,Ho,Wo] -> Reshape [N,C,HoWo]; MatMul(dY[N,O,HoWo], Transpose [0,2,1])
    (or FusedMatMul transB=1) -> Unsqueeze(-1); Concat axis 3 -> [N,O,C,kk]; ReduceSum axis 0; Reshape."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    xp = _padx(g, 'X', p, 2)
    dyr = g.reshape('dY', [N, O, Ho * Ho])
    parts = []
    for sl in _slices(g, xp, k, s, Ho, 2):
        xs = g.reshape(sl, [N, C, Ho * Ho])
        if fused:
            m = g.op('FusedMatMul', [dyr, xs], domain='com.microsoft', transB=1, alpha=1.0)
        else:
            m = g.op('MatMul', [dyr, g.op('Transpose', [xs], perm=[0, 2, 1])])
        parts.append(g.reshape(m, [N, O, C, 1]))
    r = g.op('Concat', parts, axis=3) if len(parts) > 1 else parts[0]
    r = g.op('ReduceSum', [r, g.i64([0])], keepdims=0)
    return g.reshape(r, [O, C, k, k], out=out)


def dw_im2col_cn(g, cs, out='dW'):
    """Xt=Transpose(X,[1,0,2,3]) [C,N,H,W]; Pad; k*k Slices [C,N,Ho,Wo]; Concat axis 1 -> Reshape [C*kk, N*HoWo];
    dYt = Reshape(Transpose(dY,[1,0,2,3]), [O, N*HoWo]); Gemm(dYt, cols, transB=1) -> [O, C*kk] -> Reshape [O,C,k,k]."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    xt = g.op('Transpose', ['X'], perm=[1, 0, 2, 3])
    xp = _padx(g, xt, p, 2)
    sl = _slices(g, xp, k, s, Ho, 2)
    cols = g.op('Concat', sl, axis=1) if len(sl) > 1 else sl[0]
    cols = g.reshape(cols, [C * k * k, N * Ho * Ho])
    dyt = g.reshape(g.op('Transpose', ['dY'], perm=[1, 0, 2, 3]), [O, N * Ho * Ho])
    r = g.op('Gemm', [dyt, cols], transB=1)
    return g.reshape(r, [O, C, k, k], out=out)


def dw_slices_cn(g, cs, out='dW'):
    """As im2col_cn but one Gemm(dYt[O,NHW], slice[C,NHW], transB=1) per offset, Unsqueeze+Concat axis 2."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    xt = g.op('Transpose', ['X'], perm=[1, 0, 2, 3])
    xp = _padx(g, xt, p, 2)
    dyt = g.reshape(g.op('Transpose', ['dY'], perm=[1, 0, 2, 3]), [O, N * Ho * Ho])
    parts = []
    for sl in _slices(g, xp, k, s, Ho, 2):
        r = g.op('Gemm', [dyt, g.reshape(sl, [C, N * Ho * Ho])], transB=1)
        parts.append(g.reshape(r, [O, C, 1]))
    r = g.op('Concat', parts, axis=2) if len(parts) > 1 else parts[0]
    return g.reshape(r, [O, C, k, k], out=out)


def dw_im2col_nhwc(g, cs, out='dW'):
    """Transpose X to NHWC, Pad, k*k Slices [N,Ho,Wo,C], Concat axis 3 -> [N*HoWo, kk*C];
    dYn = Reshape(Transpose(dY,[0,2,3,1]), [N*HoWo, O]); Gemm(dYn, cols, transA=1) -> [O,kk*C]
    -> Reshape [O,kk,C] -> Transpose [0,2,1] -> Reshape [O,C,k,k]."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    xn = g.op('Transpose', ['X'], perm=[0, 2, 3, 1])
    xp = _padx(g, xn, p, 1)
    sl = _slices(g, xp, k, s, Ho, 1)
    cols = g.op('Concat', sl, axis=3) if len(sl) > 1 else sl[0]
    cols = g.reshape(cols, [N * Ho * Ho, k * k * C])
    dyn = g.reshape(g.op('Transpose', ['dY'], perm=[0, 2, 3, 1]), [N * Ho * Ho, O])
    r = g.op('Gemm', [dyn, cols], transA=1)
    r = g.op('Transpose', [g.reshape(r, [O, k * k, C])], perm=[0, 2, 1])
    return g.reshape(r, [O, C, k, k], out=out)


def dw_slices_nhwc(g, cs, out='dW'):
    """Transpose X to NHWC, Pad, per offset Slice [N,Ho,Wo,C] -> Reshape [N*HoWo, C];
    Gemm(dYn[N*HoWo,O], xs, transA=1) -> [O,C] -> Unsqueeze; Concat axis 2 -> [O,C,kk] -> Reshape."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    xn = g.op('Transpose', ['X'], perm=[0, 2, 3, 1])
    xp = _padx(g, xn, p, 1)
    dyn = g.reshape(g.op('Transpose', ['dY'], perm=[0, 2, 3, 1]), [N * Ho * Ho, O])
    parts = []
    for sl in _slices(g, xp, k, s, Ho, 1):
        r = g.op('Gemm', [dyn, g.reshape(sl, [N * Ho * Ho, C])], transA=1)
        parts.append(g.reshape(r, [O, C, 1]))
    r = g.op('Concat', parts, axis=2) if len(parts) > 1 else parts[0]
    return g.reshape(r, [O, C, k, k], out=out)


def dw_flatshift(g, cs, out='dW', layout='cn'):
    """stride 1 only.  Pad X (pads p) and dY (bottom/right k-1) to the same Hp x Wp grid and flatten the
    spatial (cn: and batch) axes; then offset (i,j) is a *contiguous* shift d=i*Wp+j of the flat axis:
    dW[:,:,i,j] = dYf[:, 0:L] . Xf[:, d:d+L]^T  (wrap-around only meets dY's zero padding).
    cn:   Xf = Reshape(Pad(Transpose(X,[1,0,2,3])), [C, N*Hp*Wp]), dYf likewise [O, ...];
          per offset Gemm(dYf, Slice(Xf, d, d+L, axis 1), transB=1) -> [O,C].
    nchw: Xf = Reshape(Pad(X), [N, C, Hp*Wp]); per offset FusedMatMul(dYf[N,O,L], Slice(...)[N,C,L], transB=1)
          -> [N,O,C]; Concat; ReduceSum axis 0."""
    N, C, H, O, k, s, p, Ho = geom(cs)
    assert s == 1
    Hp = H + 2 * p
    if layout == 'cn':
        x4 = g.op('Transpose', ['X'], perm=[1, 0, 2, 3])
        d4 = g.op('Transpose', ['dY'], perm=[1, 0, 2, 3])
        xf = g.reshape(_padx(g, x4, p, 2), [C, N * Hp * Hp])
        dyf = g.reshape(g.pad(d4, [0, 0, 0, 0, 0, 0, Hp - Ho, Hp - Ho]), [O, N * Hp * Hp])
        L = (N - 1) * Hp * Hp + (Ho - 1) * Hp + Ho
        ax = 1
    else:
        xf = g.reshape(_padx(g, 'X', p, 2), [N, C, Hp * Hp])
        dyf = g.reshape(g.pad('dY', [0, 0, 0, 0, 0, 0, Hp - Ho, Hp - Ho]), [N, O, Hp * Hp])
        L = (Ho - 1) * Hp + Ho
        ax = 2
    dyf = g.slice(dyf, [0], [L], [ax])
    parts = []
    for i in range(k):
        for j in range(k):
            d = i * Hp + j
            xs = g.slice(xf, [d], [d + L], [ax])
            if layout == 'cn':
                parts.append(g.reshape(g.op('Gemm', [dyf, xs], transB=1), [O, C, 1]))
            else:
                m = g.op('FusedMatMul', [dyf, xs], domain='com.microsoft', transB=1, alpha=1.0)
                parts.append(g.reshape(m, [N, O, C, 1]))
    if layout == 'cn':
        r = g.op('Concat', parts, axis=2)
    else:
        r = g.op('ReduceSum', [g.op('Concat', parts, axis=3), g.i64([0])], keepdims=0)
    return g.reshape(r, [O, C, k, k], out=out)


DX = {
    'convflip': (dx_convflip, lambda cs: cs['s'] == 1),
    'convT': (dx_convT, lambda cs: True),
    'zeroins_conv': (dx_zeroins_conv, lambda cs: cs['s'] > 1),
    'polyphase_d2s': (dx_polyphase, lambda cs: cs['s'] > 1 and cs['k'] > 1),
    '1x1_conv_d2s': (dx_1x1_insert, lambda cs: cs['s'] > 1 and cs['k'] == 1),
}
DW = {
    'conv_batch_as_chan': dw_conv_bac,
    'im2col_nchw_bmm': dw_im2col_nchw,
    'im2col_nchw_fusedmm': lambda g, cs, out='dW': dw_im2col_nchw(g, cs, out, fused=True),
    'slices_bmm': dw_slices_bmm,
    'slices_fusedmm': lambda g, cs, out='dW': dw_slices_bmm(g, cs, out, fused=True),
    'im2col_cn_gemm': dw_im2col_cn,
    'slices_cn_gemm': dw_slices_cn,
    'im2col_nhwc_gemm': dw_im2col_nhwc,
    'slices_nhwc_gemm': dw_slices_nhwc,
    'flatshift_cn_gemm': lambda g, cs, out='dW': dw_flatshift(g, cs, out, 'cn'),
    'flatshift_nchw_fusedmm': lambda g, cs, out='dW': dw_flatshift(g, cs, out, 'nchw'),
}
DW_OK = {'flatshift_cn_gemm': lambda cs: cs['s'] == 1, 'flatshift_nchw_fusedmm': lambda cs: cs['s'] == 1}

CASES = [
    dict(name='stem7x7s2', N=16, C=1, H=105, O=64, k=7, s=2, p=3, dx=False),
    dict(name='l1_3x3', N=16, C=64, H=27, O=64, k=3, s=1, p=1, dx=True),
    dict(name='l2_3x3s2', N=16, C=64, H=27, O=128, k=3, s=2, p=1, dx=True),
    dict(name='l2_1x1s2', N=16, C=64, H=27, O=128, k=1, s=2, p=0, dx=True),
    dict(name='l2_3x3', N=16, C=128, H=14, O=128, k=3, s=1, p=1, dx=True),
    dict(name='l4_3x3', N=16, C=512, H=4, O=512, k=3, s=1, p=1, dx=True),
    dict(name='issue_ref', N=8, C=32, H=64, O=64, k=3, s=1, p=1, dx=True),
]


# ----------------------------------------------------------------------------- harness
class Bench:
    def __init__(self):
        os.makedirs(WORK, exist_ok=True)
        self.models, self.refs, self.meta = [], {}, {}

    def data(self, key, arr):
        f = f'in_{key}.bin'
        np.ascontiguousarray(arr, np.float32).tofile(os.path.join(WORK, f))
        return {'file': f, 'dims': list(arr.shape)}

    def add(self, name, g, inputs, refs, meta):
        """inputs: {graph_name: (data_key, array)}; refs: {out_name: reference array}."""
        if FILTER and not __import__('re').search(FILTER, name):
            return
        m = g.model({k: v[1] for k, v in inputs.items()}, list(refs))
        onnx.save(m, os.path.join(WORK, name + '.onnx'))
        # Timing copy: big outputs (> 64k elements) end in a 1-element Slice, so the time is not
        # dominated by allocating + copying graph outputs into JS (in a training graph they would be
        # intermediates that never leave the session).  ORT runs every node anyway.
        big = {k for k, v in refs.items() if v.size > 65536}
        for node in m.graph.node:
            node.output[:] = [o + '__full' if o in big else o for o in node.output]
        for k in big:
            r = len(refs[k].shape)
            cst = [helper.make_tensor(f'{k}__{n}', TensorProto.INT64, [r], [v] * r) for n, v in (('s', 0), ('e', 1))]
            m.graph.initializer.extend(cst)
            m.graph.node.append(helper.make_node('Slice', [k + '__full', f'{k}__s', f'{k}__e'], [k]))
        onnx.save(m, os.path.join(WORK, name + '.time.onnx'))
        self.models.append({'name': name, 'file': name + '.onnx', 'time_file': name + '.time.onnx',
                            'inputs': {k: self.data(v[0], v[1]) for k, v in inputs.items()},
                            'outputs': list(refs)})
        self.refs[name] = refs
        self.meta[name] = meta

    def run(self, rounds, with_torch):
        """rounds x (PyTorch timings, then all ORT models); min of per-round medians is kept."""
        with open(os.path.join(WORK, 'manifest.json'), 'w') as f:
            json.dump({'models': self.models}, f)
        best = {}
        for rnd in range(rounds):
            if with_torch:
                print(f'round {rnd}: torch, cpu busy before {wait_quiet():.2f}', file=sys.stderr)
                torch_round()
            print(f'round {rnd}: ORT, cpu busy before {wait_quiet():.2f}', file=sys.stderr)
            subprocess.run(['node', os.path.join(HERE, 'time.mjs'), WORK], check=True)
            for r in json.load(open(os.path.join(WORK, 'results.json'))):
                if r['name'] in best and r.get('ms') is not None:
                    r['ms'] = min(r['ms'], best[r['name']]['ms'])
                best[r['name']] = r
        out = {}
        for r in best.values():
            if 'error' in r:
                out[r['name']] = {'ms': None, 'err': r['error'], 'diff': None}
                continue
            diff, rel = 0.0, 0.0
            for k, ref in self.refs[r['name']].items():
                o = np.fromfile(os.path.join(WORK, r['outputs'][k]['file']), np.float32).reshape(ref.shape)
                d = float(np.abs(o - ref).max())
                diff = max(diff, d)
                rel = max(rel, d / (float(np.abs(ref).max()) + 1e-30))
            out[r['name']] = {'ms': r['ms'], 'diff': diff, 'rel': rel}
        return out


def cpu_busy(dt=0.5):
    def snap():
        v = [int(x) for x in open('/proc/stat').readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = snap()
    time.sleep(dt)
    t1, i1 = snap()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def wait_quiet(limit_s=90):
    """The 2-core machine is shared: wait (bounded) until other tenants leave the CPUs mostly idle."""
    t0 = time.time()
    while time.time() - t0 < limit_s:
        b = cpu_busy()
        if b < 0.25:
            return b
        time.sleep(2)
    return b


def ttime(fn, reps=20, warm=3):
    for _ in range(warm):
        fn()
    ts = []
    t0 = time.perf_counter()
    while len(ts) < reps or (len(ts) < 60 and time.perf_counter() - t0 < 1.5):
        s = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - s) * 1e3)
    ts.sort()
    return ts[len(ts) // 2]


TJOBS = []  # (dict, key, fn): PyTorch timings, re-run every round, min of medians kept


def tjob(d, key, fn, no_grad=False):
    def run():
        if no_grad:
            with torch.no_grad():
                return ttime(fn)
        return ttime(fn)
    d[key] = None
    TJOBS.append((d, key, run))


def torch_round():
    for d, key, run in TJOBS:
        v = run()
        d[key] = v if d[key] is None else min(d[key], v)


def conv_torch(cs, X, W, dY):
    x, w, dy = torch.from_numpy(X), torch.from_numpy(W), torch.from_numpy(dY)
    s, p = cs['s'], cs['p']
    cb = torch.ops.aten.convolution_backward

    def bwd(mask):
        return cb(dy, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, mask)

    with torch.no_grad():
        Y = F.conv2d(x, w, stride=s, padding=p)
        dX, dW, _ = bwd([True, True, False])
    t = {}
    tjob(t, 'fwd', lambda: F.conv2d(x, w, stride=s, padding=p), True)
    tjob(t, 'dX', lambda: bwd([True, False, False]), True)
    tjob(t, 'dW', lambda: bwd([False, True, False]), True)
    xg = x.clone().requires_grad_(cs['dx'])
    wg = w.clone().requires_grad_(True)

    def full():
        xg.grad = None
        wg.grad = None
        F.conv2d(xg, wg, stride=s, padding=p).backward(dy)
    tjob(t, 'total', full)
    return Y.numpy(), dX.numpy(), dW.numpy(), t


def conv_cases(bench, rows):
    rng = np.random.default_rng(0)
    for cs in CASES:
        if FILTER and not __import__('re').search(FILTER, cs['name']):
            continue
        N, C, H, O, k, s, p, Ho = geom(cs)
        X = rng.standard_normal((N, C, H, H), np.float32)
        W = (rng.standard_normal((O, C, k, k), np.float32) / np.sqrt(C * k * k)).astype(np.float32)
        dY = rng.standard_normal((N, O, Ho, Ho), np.float32)
        Y, dX, dW, tt = conv_torch(cs, X, W, dY)
        n = cs['name']
        ix = {'X': (n + '_X', X), 'W': (n + '_W', W), 'dY': (n + '_dY', dY)}
        g = G()
        fwd_conv(g, cs)
        bench.add(f'{n}__fwd__conv', g, {'X': ix['X'], 'W': ix['W']}, {'Y': Y}, (n, 'fwd', 'Conv'))
        if cs['dx']:
            for fname, (fn, ok) in DX.items():
                if ok(cs):
                    g = G()
                    fn(g, cs)
                    bench.add(f'{n}__dX__{fname}', g, {'W': ix['W'], 'dY': ix['dY']}, {'dX': dX}, (n, 'dX', fname))
        for fname, fn in DW.items():
            if not DW_OK.get(fname, lambda cs: True)(cs):
                continue
            g = G()
            fn(g, cs)
            bench.add(f'{n}__dW__{fname}', g, {'X': ix['X'], 'dY': ix['dY']}, {'dW': dW}, (n, 'dW', fname))
        rows[n] = {'cs': cs, 'torch': tt, 'ix': ix, 'ref': (Y, dX, dW)}


def best_of(res, prefix, k=1):
    cands = sorted((v['ms'], m.split('__')[2]) for m, v in res.items()
                   if m.startswith(prefix) and v['ms'] is not None and v['rel'] < 1e-4)
    return [c[1] for c in cands[:k]]


def combined(bench, rows, res):
    """fwd + dX + dW in one session per case: pick-round best dX x two best dW."""
    for n, r in rows.items():
        cs = r['cs']
        dxs = best_of(res, n + '__dX__') if cs['dx'] else [None]
        for dx in dxs[:1]:
            for dw in best_of(res, n + '__dW__', 2):
                g = G()
                fwd_conv(g, cs)
                refs = {'Y': r['ref'][0], 'dW': r['ref'][2]}
                if dx:
                    DX[dx][0](g, cs)
                    refs['dX'] = r['ref'][1]
                DW[dw](g, cs)
                combo = f'{dx}+{dw}' if dx else dw
                bench.add(f'{n}__total__{combo}', g, r['ix'], refs, (n, 'total', combo))


# ----------------------------------------------------------------------------- BatchNorm
def bn_cases(bench, out):
    N, C, H = 16, 64, 53
    M = N * H * H
    eps = 1e-5
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((N, C, H, H), np.float32) * 2 + 0.5).astype(np.float32)
    dY = rng.standard_normal((N, C, H, H), np.float32)
    gam = (rng.standard_normal(C, np.float32) * 0.1 + 1).astype(np.float32)
    bet = rng.standard_normal(C, np.float32) * 0.1
    x = torch.from_numpy(X).clone().requires_grad_(True)
    gm = torch.from_numpy(gam).clone().requires_grad_(True)
    bt = torch.from_numpy(bet).clone().requires_grad_(True)
    dy = torch.from_numpy(dY)

    def full():
        x.grad = gm.grad = bt.grad = None
        y = F.batch_norm(x, None, None, gm, bt, training=True, eps=eps)
        y.backward(dy)
        return y
    y = full()
    refs = {'y': y.detach().numpy(), 'dx': x.grad.numpy().copy(), 'dg': gm.grad.numpy().copy(),
            'db': bt.grad.numpy().copy()}
    out['torch'] = {}
    tjob(out['torch'], 'fwd+bwd', full)
    tjob(out['torch'], 'fwd', lambda: F.batch_norm(x, None, None, gm, bt, training=True, eps=eps), True)
    ins = {'x': ('bn_x', X), 'dy': ('bn_dy', dY), 'g': ('bn_g', gam), 'b': ('bn_b', bet)}
    AX = [0, 2, 3]

    def pc(g, v):  # per-channel [C] -> [1,C,1,1]
        return g.reshape(v, [1, C, 1, 1])

    # BN1: textbook, xhat materialised
    g = G()
    mean = g.op('ReduceMean', ['x'], axes=AX, keepdims=1)
    xc = g.op('Sub', ['x', mean])
    var = g.op('ReduceMean', [g.op('Mul', [xc, xc])], axes=AX, keepdims=1)
    inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [var, g.c(np.float32(eps))])])])
    xh = g.op('Mul', [xc, inv])
    g.op('Add', [g.op('Mul', [xh, pc(g, 'g')]), pc(g, 'b')], 'y')
    db4 = g.op('ReduceSum', ['dy', g.i64(AX)], keepdims=1)
    dg4 = g.op('ReduceSum', [g.op('Mul', ['dy', xh]), g.i64(AX)], keepdims=1)
    g.reshape(db4, [C], 'db')
    g.reshape(dg4, [C], 'dg')
    invM = g.c(np.float32(1.0 / M))
    t = g.op('Sub', [g.op('Sub', ['dy', g.op('Mul', [db4, invM])]), g.op('Mul', [xh, g.op('Mul', [dg4, invM])])])
    g.op('Mul', [t, g.op('Mul', [pc(g, 'g'), inv])], 'dx')
    bench.add('bn__textbook_xhat', g, ins, refs, ('bn', 'fwd+bwd', 'textbook_xhat'))

    # BN2: folded affine: stats from ReduceMean(x) + ReduceSumSquare(x), y = x*a+b';
    # bwd: sums of dy and dy*x, dx = dy*a + x*k2 + k3 (per-channel coefficients only)
    def bn_folded(g, stats_from=None, rs_axes=AX, xr='x', dyr='dy', shape4=None, want_y=True, want_bwd=True):
        if stats_from is None:
            s1 = g.op('ReduceSum', [xr, g.i64(rs_axes)], keepdims=1)
            s2 = g.op('ReduceSumSquare', [xr], axes=rs_axes, keepdims=1)
            mean = g.op('Mul', [s1, invM])
            var = g.op('Sub', [g.op('Mul', [s2, invM]), g.op('Mul', [mean, mean])])
            inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [var, g.c(np.float32(eps))])])])
        else:
            mean, inv = stats_from
        gg, bb = pc(g, 'g'), pc(g, 'b')
        if shape4 is not None:
            gg, bb = g.reshape(gg, shape4), g.reshape(bb, shape4)
        a = g.op('Mul', [gg, inv])
        y = None
        if want_y:
            sh = g.op('Sub', [bb, g.op('Mul', [mean, a])])
            y = g.op('Add', [g.op('Mul', [xr, a]), sh])
        if not want_bwd:
            return y, None, None, None
        sdy = g.op('ReduceSum', [dyr, g.i64(rs_axes)], keepdims=1)
        sdyx = g.op('ReduceSum', [g.op('Mul', [dyr, xr]), g.i64(rs_axes)], keepdims=1)
        dg = g.op('Mul', [inv, g.op('Sub', [sdyx, g.op('Mul', [mean, sdy])])])
        m2 = g.op('Mul', [dg, invM])                      # mean(dy*xhat)
        k2 = g.op('Neg', [g.op('Mul', [g.op('Mul', [a, inv]), m2])])
        k3 = g.op('Sub', [g.op('Mul', [g.op('Mul', [g.op('Mul', [a, inv]), m2]), mean]),
                          g.op('Mul', [a, g.op('Mul', [sdy, invM])])])
        dx = g.op('Add', [g.op('Add', [g.op('Mul', [dyr, a]), g.op('Mul', [xr, k2])]), k3])
        return y, dx, sdy, dg

    g = G()
    invM = g.c(np.float32(1.0 / M))
    y_, dx_, sdy, dg = bn_folded(g)
    g.op('Identity', [y_], 'y'), g.op('Identity', [dx_], 'dx')
    g.reshape(sdy, [C], 'db'), g.reshape(dg, [C], 'dg')
    bench.add('bn__folded_sumsq', g, ins, refs, ('bn', 'fwd+bwd', 'folded_sumsq'))

    # BN2r: same but on a [N,C,HW] reshape (reduce axes [0,2])
    g = G()
    invM = g.c(np.float32(1.0 / M))
    xr, dyr = g.reshape('x', [N, C, H * H]), g.reshape('dy', [N, C, H * H])
    y_, dx_, sdy, dg = bn_folded(g, rs_axes=[0, 2], xr=xr, dyr=dyr, shape4=[1, C, 1])
    g.reshape(y_, [N, C, H, H], 'y'), g.reshape(dx_, [N, C, H, H], 'dx')
    g.reshape(sdy, [C], 'db'), g.reshape(dg, [C], 'dg')
    bench.add('bn__folded_sumsq_3d', g, ins, refs, ('bn', 'fwd+bwd', 'folded_sumsq_3d'))

    # BN3: forward via BatchNormalization(training_mode=1, momentum=0) -> running_mean/var = batch stats
    g = G()
    invM = g.c(np.float32(1.0 / M))
    zc, oc = g.c(np.zeros(C, np.float32)), g.c(np.ones(C, np.float32))
    y_, rm, rv = g.op('BatchNormalization', ['x', 'g', 'b', zc, oc], n_out=3, epsilon=eps, momentum=0.0,
                      training_mode=1)
    g.op('Identity', [y_], 'y')
    mean = pc(g, rm)
    inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [pc(g, rv), g.c(np.float32(eps))])])])
    a = g.op('Mul', [pc(g, 'g'), inv])
    sdy = g.op('ReduceSum', ['dy', g.i64(AX)], keepdims=1)
    sdyx = g.op('ReduceSum', [g.op('Mul', ['dy', 'x']), g.i64(AX)], keepdims=1)
    dg = g.op('Mul', [inv, g.op('Sub', [sdyx, g.op('Mul', [mean, sdy])])])
    m2 = g.op('Mul', [dg, invM])
    ai = g.op('Mul', [g.op('Mul', [a, inv]), m2])
    k3 = g.op('Sub', [g.op('Mul', [ai, mean]), g.op('Mul', [a, g.op('Mul', [sdy, invM])])])
    g.op('Add', [g.op('Sub', [g.op('Mul', ['dy', a]), g.op('Mul', ['x', ai])]), k3], 'dx')
    g.reshape(sdy, [C], 'db'), g.reshape(dg, [C], 'dg')
    bench.add('bn__BatchNormalization_train', g, ins, refs, ('bn', 'fwd+bwd', 'BatchNormalization_train'))

    # BN4: stats via InstanceNormalization on [1,C,N*HW] layout is impossible without a transpose; instead
    # LayerNormalization on Transpose(x)->[C, N*HW] gives xhat, Mean, InvStdDev in one kernel.
    g = G()
    invM = g.c(np.float32(1.0 / M))
    xt = g.reshape(g.op('Transpose', ['x'], perm=[1, 0, 2, 3]), [C, M])
    xh, mu, isd = g.op('LayerNormalization', [xt, g.c(np.ones(M, np.float32))], n_out=3, axis=1, epsilon=eps)
    yt = g.op('Add', [g.op('Mul', [xh, g.reshape('g', [C, 1])]), g.reshape('b', [C, 1])])
    g.op('Transpose', [g.reshape(yt, [C, N, H, H])], 'y', perm=[1, 0, 2, 3])
    mean, inv = pc(g, mu), pc(g, isd)
    y_, dx_, sdy, dg = bn_folded(g, stats_from=(mean, inv), want_y=False)
    g.op('Identity', [dx_], 'dx')
    g.reshape(sdy, [C], 'db'), g.reshape(dg, [C], 'dg')
    bench.add('bn__layernorm_transposed', g, ins, refs, ('bn', 'fwd+bwd', 'layernorm_transposed'))

    # BN6: stats by two-step reductions on [N,C,HW]; y by BatchNormalization *inference* op fed with the
    # batch mean/var (one fused pass); dx = BatchNormalization_inf(dy; scale=a, B=k3, mean=0, var=1, eps=0)
    # + Mul(x, k2).
    def csum(g, t):  # sum over N,H,W of [N,C,H,W] -> [C]
        r = g.op('ReduceSum', [g.reshape(t, [N, C, H * H]), g.i64([2])], keepdims=0)
        return g.op('ReduceSum', [r, g.i64([0])], keepdims=0)

    def csumsq(g, t):
        r = g.op('ReduceSumSquare', [g.reshape(t, [N, C, H * H])], axes=[2], keepdims=0)
        return g.op('ReduceSum', [r, g.i64([0])], keepdims=0)

    def bn_inf(g, sum_fn=csum, sumsq_fn=csumsq, train_op=False):
        invM = g.c(np.float32(1.0 / M))
        zc, oc = g.c(np.zeros(C, np.float32)), g.c(np.ones(C, np.float32))
        if train_op:  # y + batch mean + biased batch var from one op (momentum 0 => running stats = batch stats)
            _, mean, var = g.op('BatchNormalization', ['x', 'g', 'b', zc, oc], ['y', g.t(), g.t()],
                                epsilon=eps, momentum=0.0, training_mode=1)
        else:
            mean = g.op('Mul', [sum_fn(g, 'x'), invM])
            var = g.op('Sub', [g.op('Mul', [sumsq_fn(g, 'x'), invM]), g.op('Mul', [mean, mean])])
            g.op('BatchNormalization', ['x', 'g', 'b', mean, var], 'y', epsilon=eps)
        inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [var, g.c(np.float32(eps))])])])
        a = g.op('Mul', ['g', inv])
        sdy = sum_fn(g, 'dy')
        sdyx = sum_fn(g, g.op('Mul', ['dy', 'x']))
        g.op('Identity', [sdy], 'db')
        dg = g.op('Mul', [inv, g.op('Sub', [sdyx, g.op('Mul', [mean, sdy])])], 'dg')
        ai = g.op('Mul', [g.op('Mul', [a, inv]), g.op('Mul', [dg, invM])])
        k3 = g.op('Sub', [g.op('Mul', [ai, mean]), g.op('Mul', [a, g.op('Mul', [sdy, invM])])])
        # fresh constants: ORT's training-mode BatchNormalization may write running stats in place
        # into its mean/var inputs, so they must not be shared with other consumers
        z2, o2 = g.c(np.zeros(C, np.float32)), g.c(np.ones(C, np.float32))
        t1 = g.op('BatchNormalization', ['dy', a, k3, z2, o2], epsilon=0.0)
        g.op('Sub', [t1, g.op('Mul', ['x', pc(g, ai)])], 'dx')

    g = G()
    bn_inf(g)
    bench.add('bn__bninf_2step', g, ins, refs, ('bn', 'fwd+bwd', 'bninf_2step'))
    g = G()
    bn_inf(g, train_op=True)
    bench.add('bn__bntrain_fwd_bninf_bwd', g, ins, refs, ('bn', 'fwd+bwd', 'bntrain_fwd_bninf_bwd'))
    g = G()
    bn_inf(g, lambda g, t: g.op('ReduceSum', [t, g.i64(AX)], keepdims=0),
           lambda g, t: g.op('ReduceSumSquare', [t], axes=AX, keepdims=0))
    bench.add('bn__bninf_1step', g, ins, refs, ('bn', 'fwd+bwd', 'bninf_1step'))

    # single-op parts (what each pass costs)
    x4 = X.astype(np.float64)
    a_ = rng.standard_normal(C).astype(np.float32)
    parts = {
        'ReduceSum[0,2,3]': (lambda g: g.op('ReduceSum', ['x', g.i64(AX)], 'o', keepdims=0), x4.sum((0, 2, 3))),
        'ReduceSum[N,C,HW] ax2 then ax0': (lambda g: g.op('ReduceSum', [g.op('ReduceSum', [g.reshape('x', [N, C, H * H]), g.i64([2])], keepdims=0), g.i64([0])], 'o', keepdims=0), x4.sum((0, 2, 3))),
        'MatMul([NC,HW],ones[HW,1]) then ReduceSum ax0': (lambda g: g.op('ReduceSum', [g.reshape(g.op('MatMul', [g.reshape('x', [N * C, H * H]), g.c(np.ones((H * H, 1), np.float32))]), [N, C]), g.i64([0])], 'o', keepdims=0), x4.sum((0, 2, 3))),
        'ReduceSumSquare[0,2,3]': (lambda g: g.op('ReduceSumSquare', ['x'], 'o', axes=AX, keepdims=0), (x4 ** 2).sum((0, 2, 3))),
        'ReduceSumSquare[N,C,HW] ax2 then ax0': (lambda g: g.op('Identity', [csumsq(g, 'x')], 'o'), (x4 ** 2).sum((0, 2, 3))),
        'ReduceSum(Mul(dy,x)) 2-step': (lambda g: g.op('Identity', [csum(g, g.op('Mul', ['dy', 'x']))], 'o'), (x4 * dY).sum((0, 2, 3))),
        'Einsum nchw,nchw->c': (lambda g: g.op('Einsum', ['dy', 'x'], 'o', equation='nchw,nchw->c'), (x4 * dY).sum((0, 2, 3))),
        'Add(Mul(x,a[1,C,1,1]),b)': (lambda g: g.op('Add', [g.op('Mul', ['x', pc(g, g.c(a_))]), pc(g, 'b')], 'o'), x4 * a_[None, :, None, None] + bet[None, :, None, None]),
        'BatchNormalization inference': (lambda g: g.op('BatchNormalization', ['x', 'g', 'b', g.c(np.zeros(C, np.float32)), g.c(np.ones(C, np.float32))], 'o', epsilon=0.0), x4 * gam[None, :, None, None] + bet[None, :, None, None]),
        'BatchNormalization training_mode=1': (lambda g: g.op('BatchNormalization', ['x', 'g', 'b', g.c(np.zeros(C, np.float32)), g.c(np.ones(C, np.float32))], ['o', g.t(), g.t()], epsilon=eps, momentum=0.0, training_mode=1), refs['y']),
    }
    for i, (pn, (fn, ref)) in enumerate(parts.items()):
        g = G()
        fn(g)
        bench.add(f'bnpart__{i}', g, ins, {'o': np.asarray(ref, np.float32)}, ('bn part', 'op', pn))

    # BN5: forward only variants (for reference: how much of the total is fwd)
    g = G()
    invM = g.c(np.float32(1.0 / M))
    y_, _, _, _ = bn_folded(g, want_bwd=False)
    g.op('Identity', [y_], 'y')
    bench.add('bn__fwd_only_folded', g, {'x': ins['x'], 'g': ins['g'], 'b': ins['b'], 'dy': ins['dy']},
              {'y': refs['y']}, ('bn', 'fwd', 'folded'))
    return X


# ----------------------------------------------------------------------------- MaxPool
def pool_cases(bench, out):
    N, C, H = 16, 64, 53
    rng = np.random.default_rng(2)
    X = np.maximum(rng.standard_normal((N, C, H, H), np.float32), 0)  # post-ReLU: many ties at 0
    Ho = (H + 2 - 3) // 2 + 1
    dY = rng.standard_normal((N, C, Ho, Ho), np.float32)
    x = torch.from_numpy(X).clone().requires_grad_(True)
    dy = torch.from_numpy(dY)

    def full():
        x.grad = None
        y = F.max_pool2d(x, 3, 2, 1)
        y.backward(dy)
        return y
    y = full()
    refs = {'y': y.detach().numpy(), 'dx': x.grad.numpy().copy()}
    out['torch'] = {}
    tjob(out['torch'], 'fwd+bwd', full)
    tjob(out['torch'], 'fwd', lambda: F.max_pool2d(x, 3, 2, 1), True)
    ins = {'x': ('mp_x', X), 'dy': ('mp_dy', dY)}
    tot = N * C * H * H

    g = G()
    yy, ind = g.op('MaxPool', ['x'], ['y', g.t()], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    z = g.op('ConstantOfShape', [g.i64([tot])], value=helper.make_tensor('v', TensorProto.FLOAT, [1], [0.0]))
    s = g.op('ScatterElements', [z, g.reshape(ind, [-1]), g.reshape('dy', [-1])], axis=0, reduction='add')
    g.reshape(s, [N, C, H, H], 'dx')
    bench.add('maxpool__scatterelements_add', g, ins, refs, ('maxpool', 'fwd+bwd', 'scatterelements_add'))

    g = G()
    yy, ind = g.op('MaxPool', ['x'], ['y', g.t()], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    z = g.op('ConstantOfShape', [g.i64([tot])], value=helper.make_tensor('v', TensorProto.FLOAT, [1], [0.0]))
    s = g.op('ScatterND', [z, g.reshape(ind, [-1, 1]), g.reshape('dy', [-1])], reduction='add')
    g.reshape(s, [N, C, H, H], 'dx')
    bench.add('maxpool__scatternd_add', g, ins, refs, ('maxpool', 'fwd+bwd', 'scatternd_add'))

    # per-plane scatter: indices relative to each (n,c) plane, data [N*C, H*W], axis=1
    g = G()
    yy, ind = g.op('MaxPool', ['x'], ['y', g.t()], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    rel = g.op('Mod', [g.reshape(ind, [N * C, Ho * Ho]), g.c(np.array(H * H, np.int64))])
    z = g.op('ConstantOfShape', [g.i64([N * C, H * H])], value=helper.make_tensor('v', TensorProto.FLOAT, [1], [0.0]))
    s = g.op('ScatterElements', [z, rel, g.reshape('dy', [N * C, Ho * Ho])], axis=1, reduction='add')
    g.reshape(s, [N, C, H, H], 'dx')
    bench.add('maxpool__scatterelements_plane', g, ins, refs, ('maxpool', 'fwd+bwd', 'scatterelements_plane'))

    # ArgMax variant: plain MaxPool for y; indices from ArgMax over the 9 stacked strided window slices
    # of the -inf padded input (first max wins, like PyTorch), flat index = table[argmax] + base.
    g = G()
    g.op('MaxPool', ['x'], 'y', kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    xp = g.op('Pad', ['x', g.i64([0, 0, 1, 1, 0, 0, 1, 1]), g.c(np.float32(-np.inf))], mode='constant')
    sl = [g.op('Unsqueeze', [g.slice(xp, [ky, kx], [ky + 2 * (Ho - 1) + 1, kx + 2 * (Ho - 1) + 1], [2, 3], [2, 2]),
                             g.i64([0])]) for ky in range(3) for kx in range(3)]
    am = g.op('ArgMax', [g.op('Concat', sl, axis=0)], axis=0, keepdims=0, select_last_index=0)
    table = np.array([(ky - 1) * H + (kx - 1) for ky in range(3) for kx in range(3)], np.int64)
    rowcol = (2 * np.arange(Ho)[:, None] * H + 2 * np.arange(Ho)[None, :]).astype(np.int64).reshape(1, 1, Ho, Ho)
    base = (np.arange(N * C, dtype=np.int64) * H * H).reshape(N, C, 1, 1)
    idx = g.op('Add', [g.op('Add', [g.op('Gather', [g.c(table), am], axis=0), g.c(rowcol)]), g.c(base)])
    z = g.op('ConstantOfShape', [g.i64([tot])], value=helper.make_tensor('v', TensorProto.FLOAT, [1], [0.0]))
    s = g.op('ScatterElements', [z, g.reshape(idx, [-1]), g.reshape('dy', [-1])], axis=0, reduction='add')
    g.reshape(s, [N, C, H, H], 'dx')
    bench.add('maxpool__argmax_scatter', g, ins, refs, ('maxpool', 'fwd+bwd', 'argmax_stack9_scatterelements'))

    g = G()
    g.op('MaxPool', ['x'], ['y', g.t()], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    bench.add('maxpool__fwd_with_indices', g, {'x': ins['x']}, {'y': refs['y']}, ('maxpool', 'fwd', 'with_indices'))
    g = G()
    g.op('MaxPool', ['x'], 'y', kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    bench.add('maxpool__fwd_plain', g, {'x': ins['x']}, {'y': refs['y']}, ('maxpool', 'fwd', 'plain'))


# ----------------------------------------------------------------------------- main
def fmt(v):
    return '—' if v is None else f'{v:.2f}'


def main():
    b = Bench()
    rows = {}
    conv_cases(b, rows)
    bn_t, mp_t = {}, {}
    if not FILTER or 'bn' in FILTER:
        bn_cases(b, bn_t)
    if not FILTER or 'maxpool' in FILTER:
        pool_cases(b, mp_t)
    res = b.run(1, True)  # pick round: choose best dX/dW per case
    if rows:
        combined(b, rows, res)
    meta = {k: list(v) for k, v in b.meta.items()}
    res2 = b.run(ROUNDS, True)  # all models (incl. fwd+dX+dW sessions) and PyTorch again, interleaved
    for k, v in res2.items():
        if k in res and res[k]['ms'] is not None and v['ms'] is not None:
            v['ms'] = min(v['ms'], res[k]['ms'])
    res = res2
    summary = {'res': res, 'meta': meta, 'torch': {n: r['torch'] for n, r in rows.items()},
               'dx_needed': {n: r['cs']['dx'] for n, r in rows.items()}, 'bn_torch': bn_t, 'mp_torch': mp_t}
    json.dump(summary, open(os.path.join(WORK, 'summary.json'), 'w'), indent=1)
    report(summary)


def report(S):
    res, meta = S['res'], S['meta']
    print('\n## Per-formulation timings (ms, min over rounds of the median) and max |diff| vs PyTorch\n')
    print('| case | part | formulation | ORT ms | max abs diff | rel diff |')
    print('|---|---|---|---:|---:|---:|')
    for name, v in res.items():
        case, part, form = meta[name]
        extra = f" ({v['err'][:80]})" if v.get('err') else ''
        d = '— | —' if v['diff'] is None else f"{v['diff']:.2e} | {v['rel']:.1e}"
        print(f"| {case} | {part} | {form}{extra} | {fmt(v['ms'])} | {d} |")
    if S['torch']:
        print('\n## Best ORT vs PyTorch per conv case (ms; ratio = torch ms / ORT ms, i.e. ORT speed as a '
              'fraction of PyTorch)\n')
        print('| case | fwd ORT | fwd torch | best dX | dX ORT | dX torch | best dW | dW ORT | dW torch |'
              ' ORT fwd+best dX+best dW | measured 1-session total (combo) | torch autograd fwd+bwd | ratio (sum) |'
              ' ratio (1-session) |')
        print('|---|---:|---:|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|')
        for n, tt in S['torch'].items():
            get = lambda m: res.get(m, {}).get('ms')
            f = get(f'{n}__fwd__conv')
            bx = (best_of(res, n + '__dX__') or [None])[0] if S['dx_needed'][n] else None
            bw = (best_of(res, n + '__dW__') or [None])[0]
            dx = get(f'{n}__dX__{bx}') if bx else 0.0
            dw = get(f'{n}__dW__{bw}')
            tots = best_of(res, n + '__total__')
            tot = get(f'{n}__total__{tots[0]}') if tots else None
            sm = f + (dx or 0) + dw
            print(f"| {n} | {fmt(f)} | {fmt(tt['fwd'])} | {bx or '—'} | {fmt(dx) if bx else '—'} | "
                  f"{fmt(tt['dX']) if bx else '—'} | {bw} | {fmt(dw)} | {fmt(tt['dW'])} | {fmt(sm)} | "
                  f"{fmt(tot)} ({tots[0] if tots else '—'}) | {fmt(tt['total'])} | {tt['total'] / sm:.2f} | "
                  f"{(tt['total'] / tot) if tot else float('nan'):.2f} |")
    if S['bn_torch']:
        t = S['bn_torch']['torch']
        print(f"\nPyTorch BN train fwd+bwd: {t['fwd+bwd']:.2f} ms (fwd {t['fwd']:.2f} ms)")
    if S['mp_torch']:
        t = S['mp_torch']['torch']
        print(f"PyTorch maxpool fwd+bwd: {t['fwd+bwd']:.2f} ms (fwd {t['fwd']:.2f} ms)")


if __name__ == '__main__':
    if FILTER == '--report':  # re-print the tables of the last run
        report(json.load(open(os.path.join(WORK, 'summary.json'))))
    else:
        main()

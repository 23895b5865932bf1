"""Test helper: hypothesis strategies for random convolution and pooling arguments that fit,
shared by the NumPy tests (test_conv, test_pool) and the PyTorch tests (test_torch_*).

Every strategy returns NumPy float64 arrays; the torch tests turn them into tensors with
``torch.from_numpy``.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


@st.composite
def conv_cases(draw):
    """Random conv2d arguments that fit: groups, non-square kernels, strides, dilations, every
    padding form (int, pair, "same", "valid"), batch sizes from 1.

    Returns ``(x, weight, bias, kwargs)``; ``bias`` may be None; ``kwargs`` holds ``stride``,
    ``padding``, ``dilation`` and ``groups`` in that order (the order of conv2d's arguments).
    """
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    C, F_ = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    KH, KW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    kind = draw(st.sampled_from(["int", "pair", "same", "valid"]))
    stride = (1, 1) if kind == "same" else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pads = {"int": (draw(st.integers(0, 2)),) * 2, "pair": (draw(st.integers(0, 2)),
            draw(st.integers(0, 2)))}.get(kind, (0, 0))
    padding = {"int": pads[0], "pair": pads}.get(kind, kind)
    span = (dilation[0] * (KH - 1) + 1, dilation[1] * (KW - 1) + 1)
    H = max(1, span[0] - 2 * pads[0] + draw(st.integers(0, 5)))
    W = max(1, span[1] - 2 * pads[1] + draw(st.integers(0, 5)))
    kwargs = dict(
        stride=stride[0] if stride[0] == stride[1] and draw(st.booleans()) else stride,
        padding=padding,
        dilation=dilation[0] if dilation[0] == dilation[1] and draw(st.booleans()) else dilation,
        groups=groups,
    )
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(draw(st.integers(1, 3)), C, H, W))
    weight = rng.normal(size=(F_, C // groups, KH, KW))
    bias = rng.normal(size=F_) if draw(st.booleans()) else None
    return x, weight, bias, kwargs


@st.composite
def pool_cases(draw, with_dilation=True):
    """A random input and pooling arguments that fit: non-square kernels, stride None or
    explicit, padding up to kernel_size // 2, dilation (max pooling only), batch size from 1.

    Returns ``(x, kwargs, rng)``; ``kwargs`` holds ``kernel_size``, ``stride``, ``padding``
    (and ``dilation``) in the order of the pooling functions' arguments.
    """
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if with_dilation else (1, 1)
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    stride = draw(st.one_of(st.none(), st.integers(1, 3),
                            st.tuples(st.integers(1, 3), st.integers(1, 3))))
    H, W = (max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i] + draw(st.integers(0, 5))) for i in range(2))
    kwargs = dict(kernel_size=k[0] if k[0] == k[1] and draw(st.booleans()) else k,
                  stride=stride, padding=p[0] if p[0] == p[1] and draw(st.booleans()) else p)
    if with_dilation:
        kwargs["dilation"] = d
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W))
    return x, kwargs, rng

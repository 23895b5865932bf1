"""Output-size arithmetic and argument checking shared by every backend.

Both :mod:`cnncourse.numpy_ops` and :mod:`cnncourse.torch_ops` call these functions on
*shapes* (plain tuples of ints), so the two backends accept exactly the same arguments and
fail with exactly the same messages. Nothing here imports NumPy or PyTorch.

Vocabulary (used everywhere in the course): ``N`` batch, ``C`` input channels, ``H, W`` input
height and width, ``F`` (or ``C_out``) filters, ``KH, KW`` kernel size, ``OH, OW`` output size.
"""
from __future__ import annotations

import math
import numbers
from typing import NamedTuple

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "pair",
    "ConvGeometry",
    "PoolGeometry",
    "check_ndim",
    "check_conv2d_args",
    "check_pool2d_args",
    "check_linear_args",
    "check_cross_entropy_args",
    "check_reduction",
    "check_label_smoothing",
    "check_conv2d_layer_args",
    "conv2d_layer_repr",
    "check_dim",
    "check_real",
    "adaptive_windows",
    "check_adaptive_pool2d_args",
]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def pair(value, name: str) -> tuple[int, int]:
    """Turn an int or a pair of ints into a ``(height, width)`` pair.

    Args:
        value: an int (used for both sides) or a sequence of two ints.
        name: the argument's name, used in the error message.

    Returns:
        ``(value_h, value_w)``.

    Example:
        >>> pair(3, "kernel_size"), pair((1, 2), "stride")
        ((3, 3), (1, 2))
    """
    if _is_int(value):
        return int(value), int(value)
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if items is None or len(items) != 2 or not all(_is_int(v) for v in items):
        raise TypeError(
            f"{name} must be an int or a pair of ints (height, width); got {value!r}"
        )
    return int(items[0]), int(items[1])


def _positive(values: tuple[int, int], name: str) -> None:
    if min(values) <= 0:
        raise ValueError(f"{name} must be positive (>= 1); got {name}={_show(values)}")


def _show(values: tuple[int, int]):
    return values[0] if values[0] == values[1] else values


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Output size of a convolution or pooling window along one or two axes.

    Formula::

        out = floor((input_size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1

    Args:
        input_size: ``H`` (int) or ``(H, W)``.
        kernel_size: ``KH`` or ``(KH, KW)``.
        stride: step between windows, int or pair. Default: 1.
        padding: zeros added on *each* side, int or pair. Default: 0.
        dilation: spacing between kernel elements, int or pair. Default: 1.

    Shape:
        Returns an int when every argument is an int, otherwise ``(OH, OW)``.

    Returns:
        The output size. Raises ``ValueError`` (with the formula filled in) when the window
        does not fit, i.e. the output would be smaller than 1.

    Example:
        >>> conv_output_size(28, 5), conv_output_size((28, 28), 3, stride=2, padding=1)
        (24, (14, 14))
    """
    args = (input_size, kernel_size, stride, padding, dilation)
    scalar = all(_is_int(a) for a in args)
    size = pair(input_size, "input_size")
    k = pair(kernel_size, "kernel_size")
    s = pair(stride, "stride")
    p = pair(padding, "padding")
    d = pair(dilation, "dilation")
    _positive(size, "input_size")
    _positive(k, "kernel_size")
    _positive(s, "stride")
    _positive(d, "dilation")
    if min(p) < 0:
        raise ValueError(f"padding must be >= 0; got padding={_show(p)}")
    out = tuple(
        _axis_output(size[i], k[i], s[i], (p[i], p[i]), d[i], ("height", "width")[i])
        for i in range(2)
    )
    return out[0] if scalar else out


def _axis_output(size: int, k: int, s: int, pads: tuple[int, int], d: int, axis: str) -> int:
    """One axis of the output-size formula; raises with the numbers filled in."""
    padded = size + pads[0] + pads[1]
    span = d * (k - 1) + 1
    out = (padded - span) // s + 1
    if padded < span:
        pad_text = f"2*{pads[0]}" if pads[0] == pads[1] else f"{pads[0]}+{pads[1]}"
        raise ValueError(
            f"kernel does not fit along the {axis}: the (dilated) kernel spans {span} pixels "
            f"but the padded input has only {padded}. Output {axis} = "
            f"floor(({size} + {pad_text} - {d}*({k} - 1) - 1) / {s}) + 1 = {out} < 1. "
            f"Use a smaller kernel_size or dilation, or more padding."
        )
    return out


def pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1):
    """Output size of a pooling layer: :func:`conv_output_size` with ``stride`` defaulting to
    ``kernel_size`` (non-overlapping windows), as in ``torch.nn.functional.max_pool2d``.

    Example:
        >>> pool_output_size(28, 2)
        14
    """
    return conv_output_size(
        input_size, kernel_size, kernel_size if stride is None else stride, padding, dilation
    )


def check_ndim(shape: tuple, ndim: int, name: str, layout: str) -> None:
    """Raise ``ValueError`` unless ``len(shape) == ndim``.

    Example:
        >>> check_ndim((1, 3, 8, 8), 4, "x", "(N, C, H, W)")
    """
    if len(shape) != ndim:
        hint = ""
        if ndim == 4 and len(shape) == 3:
            hint = " For a single image add a batch axis: x[None] (NumPy) or x.unsqueeze(0) (torch)."
        elif ndim == 4 and len(shape) == 2:
            hint = " For one grayscale image use x[None, None]."
        raise ValueError(
            f"{name} must be a {ndim}-D array with layout {layout}; "
            f"got a {len(shape)}-D array of shape {tuple(shape)}.{hint}"
        )


class ConvGeometry(NamedTuple):
    """Everything a conv2d implementation needs, checked and normalised."""

    N: int
    C: int
    H: int
    W: int
    F: int
    KH: int
    KW: int
    OH: int
    OW: int
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # (top, bottom, left, right)
    dilation: tuple[int, int]
    groups: int


def check_conv2d_args(x_shape, weight_shape, bias_shape, stride, padding, dilation, groups):
    """Validate conv2d arguments given the *shapes* of ``x``, ``weight`` and ``bias``.

    ``padding`` may be an int, a pair, ``"valid"`` (no padding) or ``"same"`` (output size
    equals input size; needs stride 1; an odd total padding puts the extra zero on the bottom
    and right, as PyTorch does).

    Returns:
        A :class:`ConvGeometry`.

    Example:
        >>> g = check_conv2d_args((2, 3, 8, 8), (4, 3, 3, 3), (4,), 1, "same", 1, 1)
        >>> (g.OH, g.OW, g.padding)
        (8, 8, (1, 1, 1, 1))
    """
    check_ndim(x_shape, 4, "x", "(N, C, H, W)")
    check_ndim(weight_shape, 4, "weight", "(C_out, C_in/groups, KH, KW)")
    N, C, H, W = (int(v) for v in x_shape)
    F, C_per_group, KH, KW = (int(v) for v in weight_shape)
    if not _is_int(groups) or groups <= 0:
        raise ValueError(f"groups must be a positive int; got groups={groups!r}")
    if C % groups:
        raise ValueError(
            f"groups must divide the number of input channels: x has {C} channels "
            f"(x.shape[1]={C}) but groups={groups}."
        )
    if F % groups:
        raise ValueError(
            f"groups must divide the number of filters: weight has {F} filters "
            f"(weight.shape[0]={F}) but groups={groups}."
        )
    if C_per_group * groups != C:
        per = "" if groups == 1 else f" / groups = {C} / {groups} = {C // groups}"
        raise ValueError(
            f"channel mismatch: weight expects {C_per_group * groups} input "
            f"channel{'s' * (C_per_group * groups != 1)} "
            f"(weight.shape[1]={C_per_group}, groups={groups}) but x has {C} channel{'s' * (C != 1)} "
            f"(x.shape[1]={C}): the depth of each filter must equal the number of input "
            f"channels{per}."
        )
    if min(KH, KW) <= 0 or min(N, C, H, W, F) <= 0:
        raise ValueError(
            f"empty array: x.shape={tuple(x_shape)}, weight.shape={tuple(weight_shape)}; "
            f"every size must be >= 1"
        )
    if bias_shape is not None and tuple(bias_shape) != (F,):
        raise ValueError(
            f"bias must have shape (C_out,) = ({F},), one value per filter; "
            f"got bias.shape={tuple(bias_shape)}"
        )
    s = pair(stride, "stride")
    d = pair(dilation, "dilation")
    _positive(s, "stride")
    _positive(d, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if s != (1, 1):
                raise ValueError(
                    f"padding='same' needs stride=1 (the output can only be as large as the "
                    f"input then); got stride={_show(s)}"
                )
            total_h, total_w = d[0] * (KH - 1), d[1] * (KW - 1)
            pads = (total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2)
        else:
            raise ValueError(
                f"padding must be an int, a pair of ints, 'valid' or 'same'; got {padding!r}"
            )
    else:
        p = pair(padding, "padding")
        if min(p) < 0:
            raise ValueError(f"padding must be >= 0; got padding={_show(p)}")
        pads = (p[0], p[0], p[1], p[1])
    OH = _axis_output(H, KH, s[0], pads[0:2], d[0], "height")
    OW = _axis_output(W, KW, s[1], pads[2:4], d[1], "width")
    return ConvGeometry(N, C, H, W, F, KH, KW, OH, OW, s, pads, d, int(groups))


class PoolGeometry(NamedTuple):
    """Everything a 2-D pooling implementation needs, checked and normalised."""

    N: int
    C: int
    H: int
    W: int
    KH: int
    KW: int
    OH: int
    OW: int
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]


def check_pool2d_args(x_shape, kernel_size, stride=None, padding=0, dilation=1):
    """Validate pooling arguments given the shape of ``x``; ``stride=None`` means ``kernel_size``.

    As in PyTorch, padding may be at most ``kernel_size // 2``, so that every window
    overlaps the real input.

    Example:
        >>> check_pool2d_args((1, 1, 4, 4), 2).OH
        2
    """
    check_ndim(x_shape, 4, "x", "(N, C, H, W)")
    N, C, H, W = (int(v) for v in x_shape)
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    p = pair(padding, "padding")
    d = pair(dilation, "dilation")
    _positive(k, "kernel_size")
    _positive(s, "stride")
    _positive(d, "dilation")
    if min(p) < 0:
        raise ValueError(f"padding must be >= 0; got padding={_show(p)}")
    for i, axis in enumerate(("height", "width")):
        half = k[i] // 2  # PyTorch's rule: kernel_size // 2, dilation not counted
        if p[i] > half:
            raise ValueError(
                f"padding must be at most half the kernel size so that every window covers "
                f"real pixels: kernel_size={_show(k)} allows padding <= {half} along the "
                f"{axis}; got padding={_show(p)}"
            )
    if min(N, C, H, W) <= 0:
        raise ValueError(f"empty array: x.shape={tuple(x_shape)}; every size must be >= 1")
    OH = _axis_output(H, k[0], s[0], (p[0], p[0]), d[0], "height")
    OW = _axis_output(W, k[1], s[1], (p[1], p[1]), d[1], "width")
    return PoolGeometry(N, C, H, W, k[0], k[1], OH, OW, s, p, d)


def check_linear_args(x_shape, weight_shape, bias_shape) -> None:
    """Validate ``linear(x, weight, bias)``: ``x`` is ``(*, in_features)``, ``weight`` is
    ``(out_features, in_features)``, ``bias`` is ``(out_features,)``.

    Example:
        >>> check_linear_args((5, 3), (2, 3), (2,))
    """
    if len(x_shape) < 1:
        raise ValueError("x must have at least 1 dimension (*, in_features); got a 0-D scalar")
    check_ndim(weight_shape, 2, "weight", "(out_features, in_features)")
    out_features, in_features = weight_shape
    if x_shape[-1] != in_features:
        raise ValueError(
            f"feature mismatch: weight expects in_features={in_features} "
            f"(weight.shape[1]={in_features}) but x has {x_shape[-1]} features "
            f"(x.shape[-1]={x_shape[-1]}); weight has layout (out_features, in_features)."
        )
    if bias_shape is not None and tuple(bias_shape) != (out_features,):
        raise ValueError(
            f"bias must have shape (out_features,) = ({out_features},); "
            f"got bias.shape={tuple(bias_shape)}"
        )


def check_dim(ndim: int, dim: int) -> int:
    """Return ``dim`` as a non-negative axis of an ``ndim``-D array, or raise.

    Example:
        >>> check_dim(2, -1)
        1
    """
    if ndim == 0:
        raise ValueError(
            f"x is 0-D (a single number), so there is no dim to work along (got dim={dim!r}); "
            f"give it at least one axis, e.g. x.reshape(1)"
        )
    if not _is_int(dim) or not -ndim <= dim < ndim:
        raise ValueError(f"dim must be an int in [{-ndim}, {ndim - 1}] for a {ndim}-D input; got dim={dim!r}")
    return dim % max(ndim, 1)


def check_real(value, name: str) -> float:
    """Return ``value`` as a float if it is a real number (not a bool, an array or a string).

    Args:
        value: the scalar argument, e.g. ``negative_slope``.
        name: the argument's name, used in the error message.

    Returns:
        ``float(value)``.

    Example:
        >>> check_real(0.01, "negative_slope")
        0.01
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(
            f"{name} must be a real number (an int or a float, one value for every element); "
            f"got {value!r} of type {type(value).__name__}"
        )
    return float(value)


def check_cross_entropy_args(logits_shape, target_shape, target_values=None) -> None:
    """Validate ``cross_entropy(logits, target)``: logits ``(N, K)``, integer target ``(N,)``
    with every value in ``[0, K-1]``.

    Args:
        logits_shape: shape of the logits.
        target_shape: shape of the targets.
        target_values: optional ``(min, max)`` of the targets, checked against the range.

    Example:
        >>> check_cross_entropy_args((4, 10), (4,), (0, 9))
    """
    check_ndim(logits_shape, 2, "logits", "(N, num_classes)")
    N, K = logits_shape
    if N == 0 or K == 0:
        raise ValueError(
            f"logits is empty (shape {tuple(logits_shape)}): the loss is a mean over N >= 1 "
            f"examples of scores for num_classes >= 1 classes"
        )
    if tuple(target_shape) != (N,):
        raise ValueError(
            f"target must have shape (N,) = ({N},), one class index per row of logits; "
            f"got target.shape={tuple(target_shape)}"
            + (" (use target.argmax(1) for one-hot targets)" if tuple(target_shape) == (N, K) else "")
        )
    if target_values is not None:
        lo, hi = target_values
        if lo < 0 or hi >= K:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"target values must be class indices in [0, {K - 1}] (logits has {K} "
                f"classes); got a target of {bad}"
            )


REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction) -> str:
    """Return ``reduction`` if it is one of ``"mean"``, ``"sum"``, ``"none"`` (as in PyTorch).

    Example:
        >>> check_reduction("sum")
        'sum'
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction must be 'mean' (the average over the batch), 'sum' or 'none' (one loss "
            f"per example); got reduction={reduction!r}"
        )
    return reduction


def check_label_smoothing(label_smoothing) -> float:
    """Return ``label_smoothing`` as a float if it lies in ``[0, 1]``.

    Example:
        >>> check_label_smoothing(0.1)
        0.1
    """
    value = check_real(label_smoothing, "label_smoothing")
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"label_smoothing must be in [0, 1] (the share of the target spread evenly over all "
            f"classes); got label_smoothing={label_smoothing!r}"
        )
    return value


def check_conv2d_layer_args(in_channels, out_channels, kernel_size, stride=1, padding=0,
                            dilation=1, groups=1):
    """Validate the constructor arguments of a ``Conv2d`` layer, before any input is seen.

    Returns:
        ``(kernel_size, stride, padding, dilation)`` as pairs (``padding`` may stay
        ``"same"``/``"valid"``), like the attributes of ``torch.nn.Conv2d``.

    Example:
        >>> check_conv2d_layer_args(1, 6, 5)
        ((5, 5), (1, 1), (0, 0), (1, 1))
    """
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
        if not _is_int(value) or value <= 0:
            raise ValueError(f"{name} must be a positive int; got {name}={value!r}")
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if value % groups:
            raise ValueError(
                f"{name} must be divisible by groups: {name}={value}, groups={groups} "
                f"(each group gets {name}/groups channels)"
            )
    k, s, d = pair(kernel_size, "kernel_size"), pair(stride, "stride"), pair(dilation, "dilation")
    for name, values in (("kernel_size", k), ("stride", s), ("dilation", d)):
        _positive(values, name)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(
                f"padding must be an int, a pair of ints, 'valid' or 'same'; got {padding!r}")
        if padding == "same" and s != (1, 1):
            raise ValueError(f"padding='same' needs stride=1; got stride={_show(s)}")
        p = padding
    else:
        p = pair(padding, "padding")
        if min(p) < 0:
            raise ValueError(f"padding must be >= 0; got padding={_show(p)}")
    return k, s, p, d


def conv2d_layer_repr(layer) -> str:
    """What a ``Conv2d`` layer shows between the parentheses of its ``repr``, as torch shows it:
    the arguments that differ from their defaults.

    Example:
        >>> from types import SimpleNamespace as Layer
        >>> conv2d_layer_repr(Layer(in_channels=1, out_channels=6, kernel_size=(5, 5), stride=(1, 1),
        ...                         padding=(0, 0), dilation=(1, 1), groups=1, bias=None))
        '1, 6, kernel_size=(5, 5), stride=(1, 1), bias=False'
    """
    s = (f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, "
         f"stride={layer.stride}")
    if layer.padding != (0, 0):
        s += f", padding={layer.padding}"
    if layer.dilation != (1, 1):
        s += f", dilation={layer.dilation}"
    if layer.groups != 1:
        s += f", groups={layer.groups}"
    if layer.bias is None:
        s += ", bias=False"
    return s


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """Start and end of each adaptive-pooling window along one axis (PyTorch's rule).

    Window ``i`` covers ``[floor(i*size/out), ceil((i+1)*size/out))``.

    Example:
        >>> adaptive_windows(5, 2)
        [(0, 3), (2, 5)]
    """
    if not _is_int(out) or out <= 0:
        raise ValueError(f"output_size must be a positive int; got {out!r}")
    return [(math.floor(i * size / out), _ceil_div((i + 1) * size, out)) for i in range(out)]


def check_adaptive_pool2d_args(x_shape, output_size):
    """Validate ``adaptive_avg_pool2d(x, output_size)`` given the shape of ``x``; return the
    windows along the height and along the width (see :func:`adaptive_windows`).

    Args:
        x_shape: shape of ``x``, ``(N, C, H, W)``.
        output_size: ``OH`` (square output) or ``(OH, OW)``; ``None`` in the pair keeps that
            input size, as in PyTorch.

    Returns:
        ``(windows_h, windows_w)``: ``OH`` and ``OW`` ``(start, end)`` pairs.

    Example:
        >>> check_adaptive_pool2d_args((1, 1, 5, 2), (2, None))
        ([(0, 3), (2, 5)], [(0, 1), (1, 2)])
    """
    check_ndim(x_shape, 4, "x", "(N, C, H, W)")
    H, W = (int(v) for v in x_shape[2:])
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        out_hw = [size if o is None else o for o, size in zip(output_size, (H, W))]
    else:
        out_hw = pair(output_size, "output_size")
    if min(H, W) <= 0:
        raise ValueError(f"empty array: x.shape={tuple(x_shape)}; every size must be >= 1")
    return adaptive_windows(H, out_hw[0]), adaptive_windows(W, out_hw[1])

"""Where tensors live: picking a device, and checking that an op's inputs agree.

The ops in :mod:`cnncourse.torch_ops` never move data. They run on whatever device their inputs
are on (CPU, CUDA or Apple's MPS), in the inputs' dtype, exactly like ``torch.nn.functional``.
So all the tensors of one call must be on the same device and have the same dtype; when they do
not, :func:`check_compatible` says which argument is where, instead of PyTorch's low-level
"Expected all tensors to be on the same device" or "expected scalar type" messages.

Typical use in a lesson::

    device = default_device()
    model = model.to(device)
    x, y = x.to(device), y.to(device)
"""
from __future__ import annotations

import torch

from ._tensors import check_float_tensor

__all__ = ["default_device", "check_compatible"]


def default_device() -> torch.device:
    """The fastest device on this machine: CUDA if available, then Apple's MPS, then the CPU.

    Returns:
        A ``torch.device``: ``cuda``, ``mps`` or ``cpu``.

    Example:
        >>> default_device().type in {"cuda", "mps", "cpu"}
        True
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def check_compatible(**tensors) -> None:
    """Check the tensor arguments of one op: floating point, one device, one dtype.

    ``None`` values (a missing bias) are skipped.

    Args:
        **tensors: the op's tensor arguments by name, e.g. ``x=x, weight=weight, bias=bias``.

    Raises:
        TypeError: an argument is not a floating-point tensor (see ``check_float_tensor``),
            or two arguments have different dtypes.
        ValueError: two arguments are on different devices; the message names both.

    Example:
        >>> check_compatible(x=torch.zeros(1, 1, 4, 4), weight=torch.zeros(1, 1, 3, 3), bias=None)
    """
    given = {name: check_float_tensor(t, name) for name, t in tensors.items() if t is not None}
    if not given:
        return
    first_name, first = next(iter(given.items()))
    for name, t in given.items():
        if t.device != first.device:
            raise ValueError(
                f"{first_name} and {name} must be on the same device: {first_name} is on "
                f"{first.device} but {name} is on {t.device}. Move them together, e.g. "
                f"{name} = {name}.to({first_name}.device) (a model: model.to(device))."
            )
        if t.dtype != first.dtype:
            raise TypeError(
                f"{first_name} and {name} must have the same dtype: {first_name} is "
                f"{first.dtype} but {name} is {t.dtype}. Convert one, e.g. "
                f"{name} = {name}.to({first_name}.dtype)."
            )

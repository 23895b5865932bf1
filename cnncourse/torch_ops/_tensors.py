"""Argument checks shared by every :mod:`cnncourse.torch_ops` module.

The PyTorch ops accept only floating-point tensors, on any device: they are meant to be
differentiated with autograd, and integer tensors have no gradient.
"""
from __future__ import annotations

import torch

__all__ = ["check_float_tensor", "check_grad_out"]


def check_float_tensor(t, name: str) -> torch.Tensor:
    """Return ``t`` unchanged if it is a floating-point ``torch.Tensor``, otherwise raise.

    Args:
        t: the value to check.
        name: the argument's name, used in the error message.

    Returns:
        ``t`` itself (no copy, same device and dtype).

    Raises:
        TypeError: ``t`` is not a tensor (e.g. a NumPy array or a list), or its dtype is not
            floating point (integers, bool, complex).

    Example:
        >>> check_float_tensor(torch.zeros(2), "x").dtype
        torch.float32
    """
    if not isinstance(t, torch.Tensor):
        hint = ""
        if type(t).__module__.split(".")[0] == "numpy":
            hint = " Convert a NumPy array with torch.from_numpy(a) (or use cnncourse.numpy_ops)."
        else:
            hint = " Convert it with torch.as_tensor(value, dtype=torch.float32)."
        raise TypeError(
            f"{name} must be a torch.Tensor; got {type(t).__name__}.{hint}"
        )
    if not t.dtype.is_floating_point:
        raise TypeError(
            f"{name} must be a floating-point tensor (torch.float32 or torch.float64); "
            f"got dtype {t.dtype}. Convert it with {name}.float() or {name}.double(): "
            f"gradients are only defined for floating-point values."
        )
    return t


def check_grad_out(grad_out, expected_shape: tuple, op: str) -> torch.Tensor:
    """Check that ``grad_out`` is a float tensor with the shape of ``op``'s output; return it.

    The gradient arriving at a backward function always has exactly the shape of what the
    forward function returned: one number per output element.

    Example:
        >>> check_grad_out(torch.ones(2, 3), (2, 3), "linear").shape
        torch.Size([2, 3])
    """
    check_float_tensor(grad_out, "grad_out")
    if tuple(grad_out.shape) != tuple(expected_shape):
        raise ValueError(
            f"grad_out must have the shape of {op}'s output, {tuple(expected_shape)} "
            f"(one gradient per output element); got grad_out.shape={tuple(grad_out.shape)}"
        )
    return grad_out

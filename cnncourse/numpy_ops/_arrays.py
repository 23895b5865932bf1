"""Turning arguments into floating-point NumPy arrays, with errors that teach.

Every op in :mod:`cnncourse.numpy_ops` starts by calling :func:`as_float_array` on each array
argument, so that all of them accept the same inputs as ``torch.nn.functional`` does:
floating-point data only (``float16``, ``float32``, ``float64``), kept in the dtype it came in.

- ``float32`` in gives ``float32`` out, ``float64`` gives ``float64``;
- arrays of different float dtypes are brought to their common dtype with
  :func:`common_float_dtype` (``np.result_type``: float32 with float64 gives float64);
- integers, booleans, complex numbers, strings and objects raise ``TypeError`` naming the
  argument, as PyTorch refuses them too (an image of ``uint8`` pixels must be converted first).
"""
from __future__ import annotations

import numpy as np

__all__ = ["as_float_array", "common_float_dtype", "check_grad_out"]

_KIND_NAMES = {
    "b": "booleans",
    "i": "integers",
    "u": "unsigned integers",
    "c": "complex numbers",
    "O": "Python objects",
    "U": "strings",
    "S": "bytes",
    "V": "raw records",
    "M": "dates",
    "m": "time deltas",
}


def as_float_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a floating-point NumPy array, without copying when it already is one.

    Args:
        value: an ``np.ndarray``, a nested list of floats, or anything ``np.asarray`` accepts
            (a CPU ``torch.Tensor`` that does not require grad works too).
        name: the argument's name (``"x"``, ``"weight"``, ...), used in the error message.

    Returns:
        ``np.asarray(value)``, same dtype (float16, float32 or float64).

    Raises:
        TypeError: for any non-floating dtype. Integers get a hint how to convert, e.g.
            ``x has dtype uint8; convert it first, e.g. x.astype(np.float32)``.

    Example:
        >>> as_float_array(np.zeros(3, dtype=np.float32), "x").dtype
        dtype('float32')
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as err:  # ragged lists, tensors needing grad
        raise TypeError(
            f"{name} must be an array of floating-point numbers; could not convert "
            f"{type(value).__name__} to a NumPy array ({err})"
        ) from None
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if isinstance(value, np.ndarray):
        fix = f"{name}.astype(np.float32)"
    else:
        fix = f"np.asarray({name}, dtype=np.float32)"
    if kind in "iu":
        raise TypeError(
            f"{name} has dtype {arr.dtype}; convert it first, e.g. {fix} "
            f"(like torch.nn.functional, these ops work on floating-point numbers only)"
        )
    what = _KIND_NAMES.get(kind, "non-numeric values")
    raise TypeError(
        f"{name} must hold floating-point numbers (float16, float32 or float64); got dtype "
        f"{arr.dtype} ({what}). If the values are numbers, convert them, e.g. {fix}"
    )


def common_float_dtype(*arrays) -> np.dtype:
    """The dtype an op computes in: ``np.result_type`` of its float array arguments.

    ``None`` entries (a missing bias) are skipped.

    Example:
        >>> common_float_dtype(np.zeros(2, np.float32), np.zeros(2, np.float64), None)
        dtype('float64')
    """
    return np.result_type(*(a for a in arrays if a is not None))


def check_grad_out(grad_out, expected_shape: tuple, op: str, dtype=None) -> np.ndarray:
    """Check that ``grad_out`` has the shape of the forward output; return it as a float array.

    The gradient arriving at a backward function always has exactly the shape of what the
    forward function returned: one number per output element.

    Args:
        grad_out: gradient of the loss with respect to ``op``'s output.
        expected_shape: the shape the forward output had.
        op: name of the forward function, used in the message, e.g. ``"conv2d"``.
        dtype: if given, the dtype to compute in (``grad_out`` is cast to it).

    Returns:
        ``grad_out`` as a floating-point array.

    Example:
        >>> check_grad_out(np.ones((2, 3)), (2, 3), "linear").shape
        (2, 3)
    """
    grad_out = as_float_array(grad_out, "grad_out")
    if tuple(grad_out.shape) != tuple(expected_shape):
        raise ValueError(
            f"grad_out must have the shape of {op}'s output, {tuple(expected_shape)} "
            f"(one gradient per output element); got grad_out.shape={tuple(grad_out.shape)}"
        )
    if dtype is not None:
        grad_out = grad_out.astype(dtype, copy=False)
    return grad_out

"""Checking analytic gradients against finite differences.

Every backward function in the course is tested the same way: nudge each input element by a
tiny ``h`` in both directions, see how the output moves, and compare that *numerical* gradient
with the *analytic* one the backward function returns. Lessons and tests share these helpers,
so a learner's gradient is checked exactly like the package's own.
"""
from __future__ import annotations

import numpy as np

from ._arrays import as_float_array

__all__ = ["numerical_gradient", "rel_error", "check_gradient"]

def numerical_gradient(f, x, grad_out=None, h=1e-6):
    """Central-difference gradient of ``sum(f(x) * grad_out)`` with respect to ``x``.

    Formula, for every element ``x[i]``::

        grad_x[i] = ( L(x + h*e_i) - L(x - h*e_i) ) / (2*h),   L(x) = sum(f(x) * grad_out)

    The error of this estimate is about ``h**2`` (truncation) plus ``1e-16 * |L| / h``
    (rounding), so ``h=1e-6`` gives roughly 10 correct digits in float64. ``x`` is changed in
    place while the function runs and restored afterwards (also if ``f`` raises).

    Args:
        f: function of ``x`` alone, e.g. ``lambda x: relu(x)`` or ``lambda w: linear(x, w)``.
        x: float64 array; the point at which to differentiate.
        grad_out: upstream gradient, the shape of ``f(x)``. Default: ``None``, all ones
            (the gradient of ``f(x).sum()``; for a scalar loss, of the loss itself).
        h: step size. Default: 1e-6.

    Shape:
        The result has the shape of ``x``.

    Returns:
        The numerical gradient, a new float64 array.

    Example:
        >>> numerical_gradient(lambda x: x ** 2, np.array([3.0]))  # d(x^2)/dx = 2x = 6
        array([6.])
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            f"x must be a float64 NumPy array (it is nudged in place by h={h}, which float32 "
            f"cannot resolve); got {type(x).__name__}"
            + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
            + ". Convert it with x = x.astype(np.float64)."
        )
    grad = np.zeros_like(x)
    if grad_out is not None:
        grad_out = as_float_array(grad_out, "grad_out")

    def loss() -> float:
        out = np.asarray(f(x))
        if grad_out is None:
            return float(out.sum())
        if out.shape != grad_out.shape:
            raise ValueError(
                f"grad_out must have the shape of f(x), {out.shape}; "
                f"got grad_out.shape={grad_out.shape}"
            )
        return float((out * grad_out).sum())

    for index in np.ndindex(x.shape):
        old = x[index]
        try:
            x[index] = old + h
            plus = loss()
            x[index] = old - h
            minus = loss()
        finally:
            x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def _relative_errors(a, b, tiny):
    """Element-wise ``|a - b| / max(|a| + |b|, tiny)`` as float64 (``inf`` where it is nan)."""
    a = as_float_array(a, "a").astype(np.float64)
    b = as_float_array(b, "b").astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"rel_error compares arrays of the same shape; got a.shape={a.shape} and "
            f"b.shape={b.shape}"
        )
    errors = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)
    return np.where(np.isnan(errors), np.inf, errors)


def rel_error(a, b, tiny=1e-8):
    """Largest element-wise relative error between two arrays (the CS231n definition).

    Formula::

        rel_error(a, b) = max_i |a_i - b_i| / max(|a_i| + |b_i|, tiny)

    Element-wise, so a wrong small entry is not hidden next to large ones. The floor ``tiny``
    keeps entries where both values are ~0 from dividing by zero. Rough guide for float64
    gradients: below 1e-7 right; 1e-7 to 1e-4 look closer (a kink such as ReLU at 0, or an
    entry so small that rounding noise dominates: raise ``tiny``); above 1e-4 probably wrong.

    Args:
        a, b: arrays of the same shape (numbers or array-likes).
        tiny: floor of the denominator. Default: 1e-8 (as in CS231n).

    Returns:
        A Python float in ``[0, 1]`` (``inf`` if there is a nan); 0.0 for empty arrays.

    Example:
        >>> round(rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])), 4)  # 0.2 / 4.2
        0.0476
    """
    errors = _relative_errors(a, b, tiny)
    return float(errors.max()) if errors.size else 0.0


def check_gradient(f, x, analytic, grad_out=None, h=1e-6, rtol=1e-5, atol=None):
    """Assert that an analytic gradient matches the finite-difference one.

    Passes when ``rel_error(analytic, numerical, tiny=atol/rtol) <= rtol``, that is, when every
    element has ``|analytic - numerical| <= max(rtol * (|analytic| + |numerical|), atol)``.

    ``atol`` absorbs the rounding noise of finite differences, which matters where the true
    gradient is close to 0: each evaluation of ``L = sum(f(x) * grad_out)`` is rounded by about
    ``eps * sum|f(x) * grad_out|`` (``eps = 2.2e-16``), and dividing by ``2*h`` magnifies that.
    So by default::

        atol = 1e-8 + 10 * eps * sum|f(x) * grad_out| / h

    Args:
        f: function of ``x`` alone, as in :func:`numerical_gradient`.
        x: float64 array at which to check.
        analytic: your gradient of ``sum(f(x) * grad_out)`` with respect to ``x``.
        grad_out: upstream gradient, shape of ``f(x)``. Default: ``None`` (all ones).
        h: finite-difference step. Default: 1e-6.
        rtol: allowed relative error, > 0. Default: 1e-5.
        atol: allowed absolute difference. Default: ``None``, the noise estimate above.

    Returns:
        The relative error ``rel_error(analytic, numerical, tiny=atol/rtol)``, for printing.

    Raises:
        AssertionError: naming the worst element, its two values and how many elements fail.

    Example:
        >>> x = np.array([1.0, -2.0])
        >>> check_gradient(lambda x: x ** 2, x, 2 * x) < 1e-8
        True
    """
    if not rtol > 0:
        raise ValueError(f"rtol must be positive; got rtol={rtol!r}")
    numerical = numerical_gradient(f, x, grad_out, h)
    analytic = as_float_array(analytic, "analytic")
    if analytic.shape != x.shape:
        raise ValueError(
            f"the analytic gradient must have the shape of x, {x.shape} (one number per "
            f"element of x); got analytic.shape={analytic.shape}"
        )
    if atol is None:
        out = np.asarray(f(x), dtype=np.float64)
        weighted = out if grad_out is None else out * as_float_array(grad_out, "grad_out")
        atol = 1e-8 + 10 * np.finfo(np.float64).eps * float(np.abs(weighted).sum()) / h
    errors = _relative_errors(analytic, numerical, atol / rtol)
    bad = errors > rtol
    if bad.any():
        worst = np.unravel_index(np.argmax(errors), x.shape)
        raise AssertionError(
            f"gradient check failed at x{[int(i) for i in worst]}: analytic gradient "
            f"{analytic[worst]:.6g} but finite differences give {numerical[worst]:.6g} "
            f"(relative error {errors[worst]:.2e} > rtol={rtol:g}). {int(bad.sum())} of "
            f"{x.size} elements fail |analytic - numerical| <= max(rtol*(|analytic| + "
            f"|numerical|), atol={atol:.2g}). Check the formula for that element, and that "
            f"the gradient is taken w.r.t. the same x that f uses."
        )
    return float(errors.max()) if errors.size else 0.0

"""Input checks shared by the NumPy layers: clear errors that name the layer and the fix."""
from __future__ import annotations

import numpy as np

from ..numpy_ops._arrays import as_float_array

__all__ = ["layer_input", "check_option"]


def layer_input(layer, x, ndim=None, layout="", dtype=None) -> np.ndarray:
    """``x`` as a float array for ``layer``: raises a ``TypeError``/``ValueError`` naming the layer
    when ``x`` is not floating point, has the wrong number of axes, or is not ``dtype`` (the
    dtype of the layer's parameters)."""
    x = as_float_array(x, "x")
    if ndim is not None and x.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        want = ndim if isinstance(ndim, int) else " or ".join(map(str, ndim))
        hint = " (a single image needs a batch axis: x[None])" if x.ndim + 1 == want else ""
        raise ValueError(
            f"{layer!r} expects a {want}-D input {layout}; got x.shape={x.shape}{hint}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{layer!r} has {np.dtype(dtype)} parameters but x is {x.dtype}: convert the input, "
            f"x.astype(np.{np.dtype(dtype)}), or the model, model.to(np.{x.dtype}) "
            f"(torch refuses mixed dtypes too)")
    return x


def check_option(name, value, low, high, inclusive=(True, True)) -> float:
    """``value`` as a float if ``low <= value <= high`` (ends per ``inclusive``), else raise."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number; got {value!r}") from None
    ok_low = value >= low if inclusive[0] else value > low
    ok_high = value <= high if inclusive[1] else value < high
    if not (ok_low and ok_high):
        bounds = f"{'[' if inclusive[0] else '('}{low}, {high}{']' if inclusive[1] else ')'}"
        raise ValueError(f"{name} must be in {bounds}; got {name}={value!r}")
    return value

"""cnncourse: the helper package of an open course on convolutional neural networks.

Submodules (imported on first use, so ``import cnncourse`` stays fast):

- :mod:`cnncourse.shapes`    output-size formulas and the argument checks shared by every backend
- :mod:`cnncourse.numpy_ops` the NumPy reference: every op, forward and backward, naive and vectorized
- :mod:`cnncourse.torch_ops` the same ops written with PyTorch tensor operations (CPU or GPU)
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "shapes", "numpy_ops", "torch_ops", "data", "checks", "kernels", "viz", "widgets", "grading",
    "workspace", "progress", "notebook_tools",
}
__all__ = sorted(_SUBMODULES) + ["__version__"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'cnncourse' has no attribute {name!r}")

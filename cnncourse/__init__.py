"""cnncourse: the helper package of an open course on convolutional neural networks.

Submodules (imported on first use, so ``import cnncourse`` stays fast):

- :mod:`cnncourse.shapes`    output-size formulas and the argument checks shared by every backend
- :mod:`cnncourse.numpy_ops` the NumPy reference: every op, forward and backward, naive and vectorized
- :mod:`cnncourse.torch_ops` the same ops written with PyTorch tensor operations (CPU or GPU)
- :mod:`cnncourse.nn`        NumPy layers that mirror ``torch.nn`` (same names, parameters, state dicts)
- :mod:`cnncourse.optim`     NumPy optimizers and learning-rate schedules that mirror ``torch.optim``
- :mod:`cnncourse.training`  the ``fit`` loop (NumPy and torch models), checkpoints, augmentation, DDP
- :mod:`cnncourse.metrics`   accuracy, error rate with its interval, confusion matrix, precision/recall
- :mod:`cnncourse.models`    reference models (LeNet, a small batch-norm CNN, an MLP) in both backends
- :mod:`cnncourse.explain`   what a network looks at: input-gradient saliency and Grad-CAM
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "shapes", "numpy_ops", "torch_ops", "data", "checks", "kernels", "viz", "widgets", "grading",
    "workspace", "progress", "notebook_tools", "nn", "optim",
    "training", "metrics", "models",
    "explain",
}
__all__ = sorted(_SUBMODULES) + ["__version__"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'cnncourse' has no attribute {name!r}")

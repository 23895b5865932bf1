"""What a trained model says about one image: every layer's output, and the class probabilities.

Models come in three kinds, and every function here takes all three: a ``torch.nn.Module``
(called on a float tensor, in eval mode, without gradients), a :class:`cnncourse.nn.Module`
(called on a float NumPy array) and a plain callable (called on a ``(N, C, H, W)`` float32
NumPy array; it returns ``(N, K)`` logits, as a NumPy array or a tensor).

- :func:`layer_outputs`: what each layer of a ``Sequential`` model passes to the next;
- :func:`class_probabilities`: the softmax of any model's logits;
- :func:`prediction_text`: one line naming the most likely class, stable across machines.
"""
from __future__ import annotations

import sys

import numpy as np

__all__ = ["layer_outputs", "class_probabilities", "prediction_text"]


def _is_torch(model) -> bool:
    torch = sys.modules.get("torch")  # a torch model exists only if torch was imported
    return torch is not None and isinstance(model, torch.nn.Module)


def _is_course(model) -> bool:
    from .nn import Module

    return isinstance(model, Module)


def _is_sequential(model) -> bool:
    from .nn import Sequential

    torch = sys.modules.get("torch")
    return isinstance(model, Sequential) or (torch is not None
                                             and isinstance(model, torch.nn.Sequential))


def _as_batch(image) -> np.ndarray:
    """One image ``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)`` as a batch of one."""
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        image = image[None]
    if image.ndim == 3:
        image = image[None]
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"image must be one image (H, W), (C, H, W) or (1, C, H, W); got "
                         f"shape {image.shape}")
    return image


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


class _Runner:
    """Calls a model of any of the three kinds on a NumPy batch, in eval mode, and puts its
    training mode back afterwards."""

    def __init__(self, model):
        if not callable(model):
            raise TypeError(f"model must be a torch.nn.Module, a cnncourse.nn.Module or a callable "
                            f"returning (N, 10) logits; got {type(model).__name__}")
        self.model, self.torch = model, _is_torch(model)
        self.course = not self.torch and _is_course(model)

    def __enter__(self):
        if self.torch or self.course:
            self.was_training = self.model.training
            self.model.eval()
        if self.torch:
            import torch

            self.no_grad = torch.no_grad()
            self.no_grad.__enter__()
        return self

    def __exit__(self, *exc):
        if self.torch:
            self.no_grad.__exit__(*exc)
        if self.torch or self.course:
            self.model.train(self.was_training)

    def prepare(self, batch: np.ndarray):
        """The batch in the type, dtype and device the model takes."""
        param = next(iter(self.model.parameters()), None) if (self.torch or self.course) else None
        if self.torch:
            import torch

            dtype = param.dtype if param is not None else torch.float32
            device = param.device if param is not None else "cpu"
            return torch.as_tensor(batch, dtype=dtype, device=device)
        dtype = param.data.dtype if param is not None else np.float32
        return batch.astype(dtype)


def layer_outputs(model, image) -> list:
    """What each layer of a ``Sequential`` model passes to the next, for one image.

    Args:
        model: a ``torch.nn.Sequential`` or a :class:`cnncourse.nn.Sequential` (e.g.
            ``cnncourse.models.lenet("torch")``). It is run in eval mode, without gradients,
            and its training mode is put back afterwards.
        image: one image, ``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)``.

    Shape:
        One entry per layer, batch dimension dropped: ``(C, H, W)`` for feature maps, ``(K,)``
        for vectors (flatten, dense layers: the last is the ``(10,)`` logits). The first entry
        is ``("input", (C, H, W))``.

    Returns:
        A list of ``(layer name, float64 array)``.

    Example:
        >>> from cnncourse.models import lenet
        >>> [(n, a.shape) for n, a in layer_outputs(lenet("numpy"), np.zeros((28, 28)))][:3]
        [('input', (1, 28, 28)), ('conv1', (6, 24, 24)), ('relu1', (6, 24, 24))]
    """
    if not _is_sequential(model):
        raise TypeError(f"layer_outputs needs a Sequential model (torch.nn.Sequential or "
                        f"cnncourse.nn.Sequential) to read each layer's output; got "
                        f"model of type {type(model).__name__}. class_probabilities works for "
                        f"any model.")
    batch = _as_batch(image)
    outputs = [("input", batch[0].copy())]
    with _Runner(model) as run:
        x = run.prepare(batch)
        for name, layer in model.named_children():
            x = layer(x)
            outputs.append((name, _to_numpy(x)[0]))
    return outputs


def class_probabilities(model, image) -> np.ndarray:
    """The model's class probabilities for one image: the softmax of its logits.

    Formula: ``p_k = exp(z_k - max(z)) / sum_j exp(z_j - max(z))`` with ``z`` the logits
    (computed in float64; subtracting the max keeps ``exp`` from overflowing).

    Args:
        model: a ``torch.nn.Module``, a :class:`cnncourse.nn.Module`, or any callable taking a
            ``(N, C, H, W)`` float32 NumPy array and returning ``(N, K)`` logits.
        image: one image, ``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)``.

    Shape:
        Output ``(K,)`` (``(10,)`` for digits), float64, summing to 1.

    Example:
        >>> p = class_probabilities(lambda x: np.zeros((len(x), 10)), np.zeros((28, 28)))
        >>> p.shape, float(p.sum()), float(p[3])
        ((10,), 1.0, 0.1)
    """
    batch = _as_batch(image)
    with _Runner(model) as run:
        logits = _to_numpy(model(run.prepare(batch)))
    if logits.ndim == 1:
        logits = logits[None]
    if logits.ndim != 2 or logits.shape[0] != 1 or logits.shape[1] < 2:
        raise ValueError(f"model must return (N, K) logits with K >= 2 classes (N=1 here); got "
                         f"shape {logits.shape}")
    z = logits[0] - logits[0].max()
    p = np.exp(z)
    return p / p.sum()


def prediction_text(probs) -> str:
    """One line naming the most likely class: ``"predicted 7 (p = 0.98)"``.

    The probability is floored to 2 decimals, and shown as ``"> 0.99"`` above 0.99, so that a
    confident prediction reads the same on every machine (the last digits of a trained model's
    probability depend on the order of its floating-point sums).

    Example:
        >>> prediction_text([0.01, 0.2, 0.79]), prediction_text([0.0001, 0.9999])
        ('predicted 2 (p = 0.79)', 'predicted 1 (p > 0.99)')
    """
    probs = np.asarray(probs, dtype=np.float64)
    k = int(probs.argmax())
    p = float(probs[k])
    return f"predicted {k} (p > 0.99)" if p > 0.99 else f"predicted {k} (p = {np.floor(p * 100 + 1e-9) / 100:.2f})"

"""One training step and one evaluation batch, in NumPy and in PyTorch, side by side.

:func:`~cnncourse.training.fit` is the same loop for both kinds of model; what differs is only
how the gradient is made and where the numbers live, and that is all in this module:

==================  =======================================  ===================================
                    NumPy model (``cnncourse.nn``)           ``torch.nn.Module``
==================  =======================================  ===================================
forward             ``logits = model(x)``                    ``logits = model(x)``
loss                ``loss = loss_fn(logits, y)`` (a float)  ``loss = loss_fn(logits, y)``
backward            ``model.backward(loss_fn.backward())``   ``loss.backward()`` (autograd)
update              ``optimizer.step()``                     ``optimizer.step()``
data                NumPy arrays on the CPU                  tensors on the model's device
==================  =======================================  ===================================
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["NumpyEngine", "TorchEngine", "make_engine", "is_torch_model", "check_label_range",
           "copy_state", "default_loss_fn", "check_devices", "check_optimizer"]


def is_torch_model(model) -> bool:
    """True for a ``torch.nn.Module``, False for a NumPy model (``cnncourse.nn``)."""
    return isinstance(model, torch.nn.Module)


def check_label_range(y_min: int, y_max: int, num_classes: int, where: str) -> None:
    """Raise ``ValueError`` unless every label is a class index in ``0..num_classes-1``."""
    if y_min < 0 or y_max >= num_classes:
        bad = y_min if y_min < 0 else y_max
        raise ValueError(
            f"{where} labels must be class indices in 0..{num_classes - 1}, because the model "
            f"outputs {num_classes} scores per example; got a label {bad} (labels from {y_min} to "
            f"{y_max}). Either the labels are wrong (e.g. 1..10 instead of 0..9: subtract 1) or the "
            f"model's last layer should output {y_max + 1} classes (e.g. Linear(..., {y_max + 1}))."
        )


class NumpyEngine:
    """Train and evaluate a NumPy model (one with ``forward``, ``backward`` and ``parameters()``)."""

    device = "cpu"

    def __init__(self, model, loss_fn, optimizer=None):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        first = next(iter(model.parameters()), None)
        self.dtype = first.data.dtype if first is not None else np.float32

    def to_backend(self, x, y):
        """Images as a float array of the model's dtype, labels as int64, both NumPy on the CPU."""
        x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        y = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
        return x.astype(self.dtype, copy=False), y.astype(np.int64, copy=False)

    def forward_backward(self, x, y, where="train", weight=1.0):
        """Forward, loss, backward: gradients land in each parameter's ``.grad``."""
        self.optimizer.zero_grad()
        logits = self.model(x)
        check_label_range(int(y.min()), int(y.max()), logits.shape[1], where)
        loss = self.loss_fn(logits, y)
        self.model.backward(weight * self.loss_fn.backward())
        return float(loss), int(np.sum(logits.argmax(axis=1) == y))

    def update(self):
        """Move every parameter a step against its gradient."""
        self.optimizer.step()

    def evaluate_batch(self, x, y, where="val"):
        """Sum of the losses and number of correct predictions on one batch (no gradients)."""
        logits = self.model(x)
        check_label_range(int(y.min()), int(y.max()), logits.shape[1], where)
        return float(self.loss_fn(logits, y)) * len(y), int(np.sum(logits.argmax(axis=1) == y))

    def logits(self, x):
        return self.model(x)


class TorchEngine:
    """Train and evaluate a ``torch.nn.Module`` on the device its parameters are on."""

    def __init__(self, model, loss_fn, optimizer=None):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.device = check_devices(model, loss_fn, optimizer)
        first = next(iter(model.parameters()), None)
        self.dtype = first.dtype if first is not None else torch.float32

    def to_backend(self, x, y):
        """Images as float tensors of the model's dtype, labels as int64, on the model's device."""
        x = torch.as_tensor(x).to(self.device, self.dtype, non_blocking=True)
        y = torch.as_tensor(y).to(self.device, torch.int64, non_blocking=True)
        return x, y

    def forward_backward(self, x, y, where="train", weight=1.0):
        """Forward, loss, backward: autograd fills each parameter's ``.grad``."""
        self.optimizer.zero_grad()
        logits = self.model(x)
        check_label_range(int(y.min()), int(y.max()), logits.shape[1], where)
        loss = self.loss_fn(logits, y)
        (loss * weight if weight != 1.0 else loss).backward()
        return loss.item(), int((logits.argmax(dim=1) == y).sum())

    def update(self):
        self.optimizer.step()

    @torch.no_grad()
    def evaluate_batch(self, x, y, where="val"):
        logits = self.model(x)
        check_label_range(int(y.min()), int(y.max()), logits.shape[1], where)
        return self.loss_fn(logits, y).item() * len(y), int((logits.argmax(dim=1) == y).sum())

    @torch.no_grad()
    def logits(self, x):
        return self.model(x).float().cpu().numpy()


def check_optimizer(model, optimizer) -> None:
    """Raise ``ValueError`` if ``optimizer`` updates none of ``model``'s parameters."""
    owned = {id(p) for p in model.parameters()}
    given = [p for group in optimizer.param_groups for p in group["params"]]
    if owned and not any(id(p) in owned for p in given):
        raise ValueError(
            f"the optimizer updates none of this model's parameters ({len(given)} parameters in "
            f"optimizer.param_groups, none of them the model's): it was made for another model, "
            f"e.g. before the cell that builds the model was run again. Make it anew: "
            f"optimizer = {type(optimizer).__name__}(model.parameters(), lr=...)."
        )


def check_devices(model, loss_fn=None, optimizer=None) -> torch.device:
    """Return the one device of a torch model's tensors, its loss's and its optimizer's state.

    Raises ``ValueError`` naming a tensor on each device when they are spread over several.
    """
    where = {}
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        where.setdefault(t.device, f"model parameter or buffer {name!r}")
    if isinstance(loss_fn, torch.nn.Module):
        for name, t in [*loss_fn.named_parameters(), *loss_fn.named_buffers()]:
            where.setdefault(t.device, f"loss_fn's {name!r}")
    for state in (optimizer.state.values() if optimizer is not None else ()):
        for key, t in state.items():  # Adam's 0-d "step" counter lives on the CPU on purpose
            if isinstance(t, torch.Tensor) and t.dim() > 0:
                where.setdefault(t.device, f"optimizer state {key!r}")
    if len(where) > 1:
        found = "; ".join(f"{what} is on {device}" for device, what in where.items())
        raise ValueError(
            f"the model, the loss and the optimizer must all be on one device, but {found}. "
            f"Move the whole model first, model.to(device), then create the optimizer (and the "
            f"loss, if it holds weights) from it."
        )
    return next(iter(where), torch.device("cpu"))


def copy_state(model) -> dict:
    """A copy of ``model.state_dict()`` that later training does not change (best weights)."""
    if is_torch_model(model):
        return {name: value.detach().clone() for name, value in model.state_dict().items()}
    return {name: np.array(value, copy=True) for name, value in model.state_dict().items()}


def default_loss_fn(model):
    """Cross-entropy, from the model's own library."""
    if is_torch_model(model):
        return torch.nn.CrossEntropyLoss()
    from cnncourse.nn import CrossEntropyLoss

    return CrossEntropyLoss()


def make_engine(model, loss_fn=None, optimizer=None):
    """The engine for this kind of model, with cross-entropy as the default loss."""
    loss_fn = default_loss_fn(model) if loss_fn is None else loss_fn
    return (TorchEngine if is_torch_model(model) else NumpyEngine)(model, loss_fn, optimizer)

"""Checkpoints: a model's weights, its optimizer's state and where a run stood, in one file.

A checkpoint is written **atomically**: into a temporary file in the same folder, flushed to
disk (``fsync``), then renamed over the old one with ``os.replace``, which the operating system
performs as one step. A crash, a full disk or a killed process at any moment leaves either the
old checkpoint or the new one, never a truncated mix (at worst a stray ``*.tmp`` file).

The file is an ordinary ``torch.save`` dict, read back with ``torch.load(weights_only=True)``
(no arbitrary code runs when loading). NumPy models are stored as tensors and come back as
arrays; a checkpoint written from a NumPy model loads into the torch model of the same
architecture and back (same ``state_dict`` keys and shapes).

Example::

    save_checkpoint("lenet.ckpt", model, optimizer, epoch=3)
    extra = load_checkpoint("lenet.ckpt", model, optimizer)   # {"epoch": 3}
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .._atomic import atomic_write
from .steps import is_torch_model

__all__ = ["save_checkpoint", "load_checkpoint", "atomic_save", "check_state_dict", "CheckpointError"]

FORMAT = "cnncourse-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint does not fit the model or optimizer it is loaded into."""


def atomic_save(obj, path) -> Path:
    """``torch.save(obj, path)``, but a crash never leaves a truncated ``path``.

    Writes ``<path>.<random>.tmp`` in the same folder, ``fsync``s it, then ``os.replace``s it
    onto ``path`` (atomic on POSIX and Windows); a failed write removes the temporary file.
    """
    return atomic_write(path, lambda f: torch.save(obj, f))


def _to_tensors(obj):
    """NumPy arrays (and scalars) inside nested dicts/lists -> tensors (and Python numbers)."""
    if isinstance(obj, np.ndarray):  # (np.ascontiguousarray would make a 0-d array 1-d)
        return torch.from_numpy(obj if obj.flags.c_contiguous else obj.copy())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: _to_tensors(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_tensors(v) for v in obj)
    return obj


def _to_numpy(obj):
    """The inverse of :func:`_to_tensors`, for NumPy models and optimizers."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy()
    if isinstance(obj, dict):
        return {k: _to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_numpy(v) for v in obj)
    return obj


def check_state_dict(expected: dict, given: dict, source: str = "the checkpoint") -> None:
    """Raise :class:`CheckpointError` unless ``given`` has exactly ``expected``'s keys and shapes.

    The message names the first mismatched parameter, e.g. ``checkpoint 'a.ckpt' does not fit this
    model: 'fc1.weight' has shape (120, 400) in it but (120, 256) in the model``, then the others.
    """
    problems = []
    for name, value in expected.items():
        if name not in given:
            problems.append(f"the model's {name!r} {tuple(value.shape)} is missing from it")
        elif tuple(given[name].shape) != tuple(value.shape):
            problems.append(f"{name!r} has shape {tuple(given[name].shape)} in it but "
                            f"{tuple(value.shape)} in the model")
    problems += [f"it has {name!r} {tuple(given[name].shape)}, which the model does not have"
                 for name in given if name not in expected]
    if problems:
        more = ""
        if len(problems) > 1:
            more = f" (and {len(problems) - 1} more: " + "; ".join(problems[1:4]) + \
                ("; ..." if len(problems) > 4 else "") + ")"
        raise CheckpointError(
            f"{source} does not fit this model: {problems[0]}{more}. It was saved from a different "
            f"architecture; build the model it was saved from, or start afresh (a new checkpoint "
            f"path, or resume=False).")


def save_checkpoint(path, model, optimizer=None, scheduler=None, **extra) -> Path:
    """Save ``model`` (and optionally ``optimizer``, ``scheduler``, plain-Python ``extra``) atomically.

    Args:
        path: file to write (its folder is created).
        model: a NumPy model or ``torch.nn.Module``.
        optimizer, scheduler: saved with their ``state_dict()`` when given.
        **extra: anything plain (numbers, strings, lists, dicts, tensors), returned by
            :func:`load_checkpoint`.

    Returns:
        The path written.
    """
    state = {
        "format": FORMAT,
        "backend": "torch" if is_torch_model(model) else "numpy",
        "model_class": type(model).__name__,
        "model": _to_tensors(dict(model.state_dict())),
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
        "optimizer": _to_tensors(optimizer.state_dict()) if optimizer is not None else None,
        "scheduler": _to_tensors(scheduler.state_dict()) if scheduler is not None else None,
        "extra": _to_tensors(extra),
    }
    return atomic_save(state, path)


def load_checkpoint(path, model, optimizer=None, scheduler=None, map_location=None) -> dict:
    """Load a :func:`save_checkpoint` file into ``model`` (and ``optimizer``, ``scheduler``).

    Everything is checked before anything is changed: a checkpoint of another architecture
    raises :class:`CheckpointError` naming the mismatched parameter, and leaves the model as it was.

    Args:
        path: the checkpoint file.
        model: the model to load into (NumPy or torch; either kind of checkpoint).
        optimizer, scheduler: loaded when given (the checkpoint must hold them).
        map_location: where tensors go; default: the model's device.

    Returns:
        The ``extra`` dict that was saved.
    """
    path = Path(path)
    if map_location is None and is_torch_model(model):
        first = next(iter(model.parameters()), None)
        map_location = first.device if first is not None else "cpu"
    try:
        state = torch.load(path, map_location=map_location or "cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(error).__name__}: "
                              f"{error})") from error
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a cnncourse checkpoint (made by save_checkpoint)")
    source = f"checkpoint {str(path)!r}"
    check_state_dict(model.state_dict(), state["model"], source)
    if optimizer is not None:
        if state["optimizer"] is None:
            raise CheckpointError(f"{source} holds no optimizer state")
        if state["optimizer_class"] != type(optimizer).__name__:
            raise CheckpointError(f"{source} was saved with a {state['optimizer_class']} "
                                  f"optimizer, not {type(optimizer).__name__}")
    if scheduler is not None and state["scheduler"] is None:
        raise CheckpointError(f"{source} holds no learning-rate scheduler state")
    numpy_model = not is_torch_model(model)
    model.load_state_dict(_to_numpy(state["model"]) if numpy_model else state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(_to_numpy(state["optimizer"]) if numpy_model else state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(_to_numpy(state["scheduler"]) if numpy_model else state["scheduler"])
    return state["extra"]

"""How fast a model trains: seconds per training step, measured on real batches.

Used by lesson 5's speed ladder (NumPy, ``torch_ops`` layers, ``torch.nn`` on the CPU, the GPU)
and by ``benchmarks/bench_lesson05.py``. A step is what :func:`~cnncourse.training.fit` does per
batch -- forward, loss, backward, update -- through the same engine
(:mod:`cnncourse.training.steps`), so the numbers are those of a real run.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .steps import make_engine

__all__ = ["time_steps"]


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_steps(model, optimizer, x, y, batch_size: int = 64, steps: int = 20, warmup: int = 3,
               loader: bool = False, loss_fn=None) -> dict:
    """Time ``steps`` training steps of ``model`` on consecutive batches of ``(x, y)``.

    The model is trained while it is timed (its weights change): time a copy, or a fresh model,
    when the weights matter.

    Args:
        model: a NumPy model (``cnncourse.nn``) or a ``torch.nn.Module`` (on its device).
        optimizer: built on ``model.parameters()``.
        x, y: images ``(N, C, H, W)`` and labels ``(N,)``, arrays or tensors; ``N >= batch_size``.
        batch_size: examples per step. Default: 64.
        steps: timed steps (after ``warmup`` untimed ones). Defaults: 20 and 3.
        loader: feed the batches through a ``torch.utils.data.DataLoader`` over a
            ``TensorDataset`` (one example at a time, collated per batch) instead of slicing one
            tensor already on the device. Default: False.
        loss_fn: default cross-entropy of the model's library.

    Returns:
        ``dict(seconds_per_step, steps_per_second, images_per_second, batch_size, steps, device)``.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
        >>> r = time_steps(net, opt, torch.randn(8, 1, 2, 2), torch.randint(0, 2, (8,)),
        ...                batch_size=4, steps=2, warmup=1)
        >>> r["steps"], r["batch_size"], r["seconds_per_step"] > 0
        (2, 4, True)
    """
    if not (isinstance(steps, int) and steps >= 1 and isinstance(warmup, int) and warmup >= 0):
        raise ValueError(f"steps must be an int >= 1 and warmup an int >= 0; got steps={steps!r}, "
                         f"warmup={warmup!r}")
    n = len(y)
    if not (isinstance(batch_size, int) and 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be an int from 1 to len(y)={n}; got {batch_size!r}")
    engine = make_engine(model, loss_fn, optimizer)
    model.train()
    if loader:
        data = torch.utils.data.TensorDataset(torch.as_tensor(np.asarray(x)), torch.as_tensor(np.asarray(y)))
        batches = _cycle(lambda: iter(torch.utils.data.DataLoader(data, batch_size, shuffle=True,
                                                                  drop_last=True)))
    else:
        xb, yb = engine.to_backend(x, y)
        starts = list(range(0, n - batch_size + 1, batch_size))
        batches = _cycle(lambda: ((xb[s:s + batch_size], yb[s:s + batch_size]) for s in starts))
    for _ in range(warmup):
        _one_step(engine, *next(batches), loader)
    _sync(engine.device)
    start = time.perf_counter()
    for _ in range(steps):
        _one_step(engine, *next(batches), loader)
    _sync(engine.device)
    seconds = (time.perf_counter() - start) / steps
    return dict(seconds_per_step=seconds, steps_per_second=1 / seconds,
                images_per_second=batch_size / seconds, batch_size=batch_size, steps=steps,
                device=str(engine.device))


def _cycle(make_iterator):
    while True:
        yield from make_iterator()


def _one_step(engine, x, y, convert: bool) -> None:
    if convert:
        x, y = engine.to_backend(x, y)
    engine.forward_backward(x, y)
    engine.update()

"""Evaluating a trained model: its loss and accuracy on a dataset, and its predictions.

Both work for NumPy models and ``torch.nn.Module``s, in eval mode (dropout off, batch norm on
its running statistics) and without gradients, batch by batch so that memory stays small.
"""
from __future__ import annotations

import numpy as np

from . import distributed
from .batches import as_data
from .steps import make_engine

__all__ = ["evaluate", "predict", "evaluate_sums"]


def evaluate_sums(engine, data, model, rank=0, world=1) -> list:
    """``[sum of losses, correct, examples]`` of ``model`` on this process's share of ``data``
    (summed over all processes under ``torch.distributed``), in eval mode, without gradients."""
    was_training = model.training
    model.eval()
    sums = [0.0, 0, 0]
    shard = data.shard(rank, world)
    if shard is not None:
        xs, ys = shard
        batches = ((xs[i:i + data.batch_size], ys[i:i + data.batch_size])
                   for i in range(0, len(ys), data.batch_size))
    else:
        batches = ((x, y) for x, y, _ in data.batches(0, False))
    for x, y in batches:
        loss_n, correct = engine.evaluate_batch(x, y, data.name)
        sums = [sums[0] + loss_n, sums[1] + correct, sums[2] + len(y)]
    if world > 1:
        sums = distributed.all_reduce_sum(sums, engine.device)
    model.train(was_training)
    return sums


def evaluate(model, data, loss_fn=None, batch_size: int = 500) -> dict:
    """Loss and accuracy of ``model`` on ``data`` (any kind ``fit`` takes), in eval mode.

    Returns:
        ``{"loss": mean loss, "accuracy": ..., "n": number of examples}``.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> sorted(evaluate(net, (torch.randn(8, 1, 2, 2), torch.zeros(8, dtype=torch.long))))
        ['accuracy', 'loss', 'n']
    """
    engine = make_engine(model, loss_fn)
    loss_n, correct, n = evaluate_sums(engine, as_data(data, "data", engine, batch_size, 0), model)
    return {"loss": loss_n / n, "accuracy": correct / n, "n": int(n)}


def predict(model, x, batch_size: int = 500, probabilities: bool = True) -> np.ndarray:
    """Class probabilities (softmax of the logits), or the logits, of ``model`` for inputs ``x``.

    Args:
        model: NumPy or torch model (run in eval mode, without gradients).
        x: ``(N, ...)`` inputs, array or tensor.
        batch_size: inputs per forward pass. Default: 500.
        probabilities: softmax the logits. Default: True.

    Shape:
        Returns a NumPy array ``(N, K)``.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
        >>> predict(net, np.zeros((5, 1, 2, 2), np.float32)).shape
        (5, 3)
    """
    engine = make_engine(model)
    xb, _ = engine.to_backend(x, np.zeros(len(x), np.int64))
    was_training = model.training
    model.eval()
    logits = np.concatenate([np.asarray(engine.logits(xb[i:i + batch_size]), dtype=np.float64)
                             for i in range(0, len(xb), batch_size)])
    model.train(was_training)
    if not probabilities:
        return logits
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

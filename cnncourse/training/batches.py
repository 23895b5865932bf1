"""What :func:`~cnncourse.training.fit` trains on: ``(images, labels)`` pairs or DataLoaders.

``train`` and ``val`` can each be

- a pair ``(x, y)`` of NumPy arrays or torch tensors held in memory: ``x`` are the inputs
  ``(N, C, H, W)`` (or ``(N, features)`` for an MLP), floating point; ``y`` the ``(N,)`` integer
  class labels. ``fit`` shuffles the pair itself, from its ``seed``, so a run is reproducible and
  a resumed run sees exactly the batches it would have seen;
- a ``torch.utils.data.DataLoader`` (or any iterable of ``(x, y)`` batches with a ``len``): used
  as it is, with its own batch size, shuffling and workers;
- a ``torch.utils.data.Dataset`` such as ``cnncourse.data.mnist_dataset()``: ``fit`` wraps it in a
  ``DataLoader`` with ``batch_size``, shuffled from ``seed``.

Inputs are converted to the model's floating-point dtype and device, labels to ``int64``.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["ArrayData", "LoaderData", "as_data"]


def _length(a) -> int:
    return int(a.shape[0]) if getattr(a, "ndim", 0) >= 1 else 0


class ArrayData:
    """Examples held in memory as ``(x, y)``, cut into shuffled batches of ``batch_size``."""

    def __init__(self, x, y, name: str, engine, batch_size: int):
        if _length(x) != _length(y) or getattr(y, "ndim", None) != 1:
            raise ValueError(
                f"{name} must be (x, y) with one label per example: x of shape (N, ...) and y of "
                f"shape (N,); got x.shape={tuple(getattr(x, 'shape', ()))}, "
                f"y.shape={tuple(getattr(y, 'shape', ()))}")
        if _length(x) == 0:
            raise ValueError(f"{name} is empty: x.shape={tuple(x.shape)} holds no examples; "
                             f"training and evaluating need at least one")
        dtype = str(x.dtype)
        if "float" not in dtype:
            raise TypeError(
                f"{name} images must be floating point, got dtype {dtype}. Scale them to [0, 1] "
                f"first: x = x.astype(np.float32) / 255 (NumPy) or x.float() / 255 (torch); "
                f"cnncourse.data loaders do this with as_torch=True")
        if "int" not in str(y.dtype):
            raise TypeError(f"{name} labels must be integer class indices, got dtype {y.dtype}")
        self.name, self.batch_size = name, batch_size
        self.x, self.y = engine.to_backend(x, y)  # converted once, onto the model's device
        self.seed = 0
        self._torch = isinstance(self.x, torch.Tensor)

    def __len__(self) -> int:
        return _length(self.x)

    def num_batches(self, world_size: int = 1) -> int:
        return -(-len(self) // self.batch_size) if len(self) >= world_size else 0

    def batches(self, epoch: int, shuffle: bool, start: int = 0, rank: int = 0, world_size: int = 1):
        """Yield ``(x, y, weight)`` for batch ``start`` on of ``epoch``.

        The order comes from ``np.random.default_rng([seed, epoch])``, so it is the same however
        often the run is resumed. Under ``torch.distributed`` each global batch is split between
        the ``world_size`` processes; ``weight = n_local * world_size / n_global`` makes the
        gradients DistributedDataParallel averages equal to those of the whole global batch.
        """
        order = (np.random.default_rng([self.seed, epoch]).permutation(len(self)) if shuffle
                 else np.arange(len(self)))
        for b in range(start, self.num_batches(world_size)):
            index = order[b * self.batch_size:(b + 1) * self.batch_size]
            if len(index) < world_size:
                return
            local = np.array_split(index, world_size)[rank]
            weight = len(local) * world_size / len(index)
            if self._torch:
                local = torch.from_numpy(local).to(self.x.device)
            yield self.x[local], self.y[local], weight

    def shard(self, rank: int, world_size: int):
        """This process's share of the examples, in order, for evaluation: ``(x, y)``."""
        low, high = len(self) * rank // world_size, len(self) * (rank + 1) // world_size
        return self.x[low:high], self.y[low:high]


class LoaderData:
    """Batches from a DataLoader (or any iterable of ``(x, y)`` with ``len``), used as they come."""

    def __init__(self, loader, name: str, engine):
        try:
            n = len(loader)
        except TypeError:
            raise TypeError(f"{name} must have a length (the number of batches): got "
                            f"{type(loader).__name__} without len()") from None
        if n == 0:
            raise ValueError(f"{name} is empty: len({name}) == 0 batches (an empty dataset, or a "
                             f"DataLoader with drop_last=True and fewer examples than batch_size)")
        self.loader, self.name, self.engine = loader, name, engine

    def num_batches(self, world_size: int = 1) -> int:
        return len(self.loader)

    def batches(self, epoch: int, shuffle: bool = True, start: int = 0, rank: int = 0,
                world_size: int = 1):
        """Yield ``(x, y, 1.0)`` for the loader's batches, skipping the first ``start``."""
        sampler = getattr(self.loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):  # DistributedSampler: a new shuffle every epoch
            sampler.set_epoch(epoch)
        for b, batch in enumerate(self.loader):
            if b < start:
                continue
            try:
                x, y = batch
            except (TypeError, ValueError):
                raise TypeError(f"each batch of {self.name} must be a pair (x, y); got "
                                f"{type(batch).__name__}") from None
            if len(x) == 0:
                continue
            x, y = self.engine.to_backend(x, y)
            yield x, y, 1.0

    def shard(self, rank: int, world_size: int):
        return None


def as_data(data, name: str, engine, batch_size: int, seed: int, distributed: bool = False):
    """Wrap ``train`` or ``val`` (see the module docstring) as :class:`ArrayData` or :class:`LoaderData`."""
    if isinstance(data, torch.utils.data.Dataset) and not isinstance(data, torch.utils.data.IterableDataset):
        if len(data) == 0:
            raise ValueError(f"{name} is empty: len({name}) == 0 examples")
        if distributed:
            sampler = torch.utils.data.DistributedSampler(data, shuffle=name == "train", seed=seed)
            return LoaderData(torch.utils.data.DataLoader(data, batch_size, sampler=sampler), name, engine)
        generator = torch.Generator().manual_seed(seed)
        data = torch.utils.data.DataLoader(data, batch_size, shuffle=name == "train", generator=generator)
        return LoaderData(data, name, engine)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
        if not all(isinstance(a, (np.ndarray, torch.Tensor)) for a in (x, y)):
            raise TypeError(f"{name} = (x, y) must hold NumPy arrays or torch tensors; got "
                            f"({type(x).__name__}, {type(y).__name__})")
        data = ArrayData(x, y, name, engine, batch_size)
        data.seed = seed
        return data
    if hasattr(data, "__iter__") and hasattr(data, "__len__") and not isinstance(data, (str, bytes, np.ndarray, torch.Tensor)):
        if distributed and not isinstance(getattr(data, "sampler", None), torch.utils.data.DistributedSampler):
            raise ValueError(
                f"under torch.distributed, a DataLoader for {name} must use a DistributedSampler so "
                f"that each process gets its own share: DataLoader(dataset, batch_size, "
                f"sampler=DistributedSampler(dataset)); or pass (x, y) arrays and fit splits them")
        return LoaderData(data, name, engine)
    raise TypeError(
        f"{name} must be a pair (x, y) of arrays or tensors, a torch Dataset or a DataLoader; got "
        f"{type(data).__name__}" + (f" of length {len(data)}" if isinstance(data, (tuple, list)) else ""))

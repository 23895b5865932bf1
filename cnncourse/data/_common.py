"""Helpers shared by every dataset loader: checking a choice, a fixed stratified split, and
turning NumPy arrays into the tensors a ``torch.nn`` model expects.

Every loader returns NumPy arrays by default, images as ``(N, H, W)`` (gray) with labels as
``int64`` class indices; :func:`to_torch` turns such a pair into ``float32`` images of shape
``(N, C, H, W)`` scaled to ``[0, 1]`` and ``int64`` labels.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_choice", "check_int", "check_classes", "stratified_split", "to_torch", "as_dataset"]


def check_choice(name: str, value, valid) -> None:
    """Raise ``ValueError`` naming the argument and listing the valid values.

    Example:
        >>> check_choice("split", "train", ("train", "test"))
    """
    valid = tuple(valid)
    if not isinstance(value, str) or value not in valid:
        listed = ", ".join(repr(v) for v in valid)
        raise ValueError(f"{name} must be one of {listed}; got {name}={value!r}")


def check_int(name: str, value, low: int, high: int | None = None, why: str = "") -> int:
    """Return ``value`` as an int if it is an int in ``[low, high]``, else raise ``ValueError``.

    Example:
        >>> check_int("n", 5, 1)
        5
    """
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_int or value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an int {allowed}{why}; got {name}={value!r}")
    return int(value)


def check_classes(classes, valid) -> tuple[str, ...]:
    """Check a ``classes`` argument (a name or a sequence of names) and return it as a tuple.

    It must be non-empty, without repeats, and every name one of ``valid``; label ``i`` then
    means ``classes[i]``.

    Example:
        >>> check_classes("circle", ("line", "circle"))
        ('circle',)
    """
    classes = (classes,) if isinstance(classes, str) else tuple(classes)
    if not classes:
        raise ValueError(f"classes must name at least one of {tuple(valid)}; got classes=()")
    for name in classes:
        check_choice("each of classes", name, valid)
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes must not repeat a name; got classes={classes}")
    return classes


def stratified_split(labels, n_test: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into train and test so that every class keeps its share.

    Each class ``c`` with ``n_c`` examples puts ``n_c * n_test / N`` of them into the test
    set, rounded with the largest-remainder rule so that exactly ``n_test`` are chosen (ties
    go to the lower class index). Which examples are chosen, and the order of both parts,
    come from ``numpy.random.RandomState(seed)``, whose stream NumPy keeps stable across
    versions, so the split never changes.

    Args:
        labels: ``(N,)`` integer class labels.
        n_test: how many examples go to the test set, ``0 <= n_test <= N``.
        seed: seed of the shuffle. Default: 0.

    Shape:
        Returns ``train_index`` of shape ``(N - n_test,)`` and ``test_index`` of shape
        ``(n_test,)``, both ``int64``, shuffled (not sorted), disjoint, together ``0..N-1``.

    Example:
        >>> train, test = stratified_split([0, 0, 0, 1, 1, 1], n_test=2)
        >>> sorted(np.asarray([0, 0, 0, 1, 1, 1])[test].tolist())
        [0, 1]
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (N,); got labels.shape={labels.shape}")
    N = labels.shape[0]
    if not 0 <= n_test <= N:
        raise ValueError(f"n_test must be in [0, N={N}]; got n_test={n_test}")
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n_test / N
    n_per_class = np.floor(exact).astype(np.int64)
    missing = n_test - int(n_per_class.sum())
    # Largest remainder first; a stable sort keeps the lower class first among equal ones.
    order = np.argsort(-(exact - n_per_class), kind="stable")
    n_per_class[order[:missing]] += 1
    rng = np.random.RandomState(seed)
    test_parts = []
    for c, k in zip(classes, n_per_class):
        members = np.flatnonzero(labels == c)
        test_parts.append(members[rng.permutation(members.size)[:k]])
    is_test = np.zeros(N, dtype=bool)
    is_test[np.concatenate(test_parts)] = True
    train_index = np.flatnonzero(~is_test)
    test_index = np.flatnonzero(is_test)
    train_index = train_index[rng.permutation(train_index.size)]
    test_index = test_index[rng.permutation(test_index.size)]
    return train_index, test_index


def to_torch(images, labels, max_value: float = 255.0):
    """Turn NumPy images and labels into the tensors a ``torch.nn`` CNN trains on.

    Formula: ``x = float32(images) / max_value``, with a channel axis inserted, so pixel
    values land in ``[0, 1]``.

    Args:
        images: ``(N, H, W)`` gray or ``(N, H, W, C)`` colour array.
        labels: ``(N,)`` integer labels.
        max_value: the value that maps to 1.0 (255 for uint8 pixels, 16 for the 8x8 digits,
            1 for images already in ``[0, 1]``). Default: 255.

    Shape:
        images ``(N, H, W)`` -> ``(N, 1, H, W)``; ``(N, H, W, C)`` -> ``(N, C, H, W)``;
        labels ``(N,)`` -> ``(N,)``.

    Returns:
        ``(x, y)``: a ``float32`` tensor in ``[0, 1]`` and an ``int64`` tensor.

    Example:
        >>> x, y = to_torch(np.zeros((2, 28, 28), np.uint8), np.array([3, 7]))
        >>> tuple(x.shape), x.dtype, y.dtype
        ((2, 1, 28, 28), torch.float32, torch.int64)
    """
    import torch

    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim not in (3, 4):
        raise ValueError(
            f"images must be (N, H, W) or (N, H, W, C); got images.shape={images.shape}"
        )
    if labels.shape != images.shape[:1]:
        raise ValueError(
            f"labels must have shape (N,) = ({images.shape[0]},) to match images; "
            f"got labels.shape={labels.shape}"
        )
    x = torch.from_numpy(images.astype(np.float32) / np.float32(max_value))
    x = x.unsqueeze(1) if images.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()
    return x, torch.from_numpy(labels.astype(np.int64))


def as_dataset(images, labels, max_value: float = 255.0):
    """Wrap images and labels as a ``torch.utils.data.TensorDataset`` (see :func:`to_torch`).

    Each item is ``(x, y)`` with ``x`` a ``float32`` tensor ``(C, H, W)`` in ``[0, 1]`` and
    ``y`` an ``int64`` scalar tensor, ready for ``torch.utils.data.DataLoader``.

    Example:
        >>> ds = as_dataset(np.zeros((5, 8, 8), np.uint8), np.arange(5))
        >>> len(ds), tuple(ds[0][0].shape)
        (5, (1, 8, 8))
    """
    from torch.utils.data import TensorDataset

    return TensorDataset(*to_torch(images, labels, max_value))

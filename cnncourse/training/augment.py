"""Data augmentation for image batches: random shifts, flips and small rotations.

Each function takes a batch ``x`` of shape ``(N, C, H, W)`` -- a NumPy array or a torch tensor on
any device -- and a NumPy random generator ``rng``, and returns a new batch of the same kind,
shape and dtype; every image gets its own random draw. The work is done with torch tensor
operations in both cases (a NumPy batch is viewed as a tensor without copying). The random numbers always come from
``rng`` (on the CPU), so the same seed gives the same augmented batch in NumPy and in torch.

Augmentation shows the network a slightly different version of each training image every epoch,
so it cannot memorise the exact pixels. Pick only changes that keep the label: a digit shifted by
two pixels is still that digit, a mirrored 3 is not a 3 (no flips for digits), a 6 rotated by
180 degrees is a 9 (keep rotations small).

Example::

    augment = Augment(shift=2, degrees=10)
    fit(model, train, val, epochs=10, optimizer=optimizer, augment=augment)
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["random_shift", "random_flip", "random_rotation", "Augment"]


def _check_batch(x) -> None:
    if getattr(x, "ndim", None) != 4:
        raise ValueError(f"augmentation works on image batches (N, C, H, W); got shape "
                         f"{tuple(getattr(x, 'shape', ()))}")


def _as_tensor(x) -> torch.Tensor:
    """A tensor view of a NumPy batch (no copy), or the tensor itself: one code path for both."""
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))


def random_shift(x, max_shift: int, rng: np.random.Generator):
    """Move each image by a random whole number of pixels, filling the border with zeros.

    Formula: ``out[n, c, i, j] = x[n, c, i - dy_n, j - dx_n]`` (0 outside the image), with
    ``dy_n, dx_n`` drawn uniformly from ``-max_shift..max_shift``.

    Args:
        x: ``(N, C, H, W)`` array or tensor.
        max_shift: largest shift in pixels, in each direction (0 returns ``x`` unchanged).
        rng: ``np.random.Generator`` for the shifts.

    Shape:
        Output ``(N, C, H, W)``, like ``x``.

    Example:
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> random_shift(x, 1, np.random.default_rng(0)).shape
        (1, 1, 3, 3)
    """
    _check_batch(x)
    s = int(max_shift)
    if s == 0:
        return x
    N, C, H, W = x.shape
    dy, dx = rng.integers(-s, s + 1, size=(2, N))
    rows = s - dy[:, None] + np.arange(H)  # (N, H): the padded row each output row reads
    cols = s - dx[:, None] + np.arange(W)  # (N, W): the padded column each output column reads
    if isinstance(x, np.ndarray):
        # NumPy batches stay in NumPy: torch's worker threads would otherwise compete with
        # OpenBLAS's in the NumPy training step that follows (measured 3-4x slower on 2 cores).
        padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
        out = np.take_along_axis(padded, rows[:, None, :, None], axis=2)
        return np.take_along_axis(out, cols[:, None, None, :], axis=3)
    t = _as_tensor(x)
    rows, cols = (torch.from_numpy(i).to(t.device) for i in (rows, cols))
    out = F.pad(t, (s, s, s, s)).gather(2, rows[:, None, :, None].expand(N, C, H, W + 2 * s))
    out = out.gather(3, cols[:, None, None, :].expand(N, C, H, W))
    return out if isinstance(x, torch.Tensor) else out.numpy()


def random_flip(x, rng: np.random.Generator, p: float = 0.5):
    """Mirror each image left-right with probability ``p`` (for photos; not for digits or text).

    Formula: ``out[n, c, i, j] = x[n, c, i, W - 1 - j]`` for the flipped images, else ``x[n]``.

    Example:
        >>> x = np.arange(4.0).reshape(1, 1, 2, 2)
        >>> random_flip(x, np.random.default_rng(0), p=1.0)[0, 0].tolist()
        [[1.0, 0.0], [3.0, 2.0]]
    """
    _check_batch(x)
    flip = rng.random(x.shape[0]) < p
    if isinstance(x, torch.Tensor):
        flip = torch.from_numpy(flip).to(x.device).view(-1, 1, 1, 1)
        return torch.where(flip, x.flip(-1), x)
    return np.where(flip[:, None, None, None], x[..., ::-1], x)


def random_rotation(x, max_degrees: float, rng: np.random.Generator):
    """Rotate each image about its centre by a random angle in ``[-max_degrees, max_degrees]``.

    Pixels are resampled bilinearly (``torch.nn.functional.grid_sample``); what comes in from
    outside the image is 0. Formula: output pixel ``p`` takes the input at ``R(theta) p`` (both
    measured from the centre, ``R`` the rotation matrix), so a positive angle turns the picture
    counter-clockwise on screen (90 degrees is ``np.rot90``).

    Example:
        >>> x = np.zeros((2, 1, 8, 8), dtype=np.float32)
        >>> random_rotation(x, 10, np.random.default_rng(0)).shape
        (2, 1, 8, 8)
    """
    _check_batch(x)
    if max_degrees == 0:
        return x
    t = _as_tensor(x)
    theta = np.deg2rad(rng.uniform(-max_degrees, max_degrees, size=x.shape[0]))
    cos, sin = np.cos(theta), np.sin(theta)
    H, W = x.shape[-2:]
    # affine_grid measures x and y in [-1, 1]; non-square images need the aspect ratio.
    matrix = np.stack([np.stack([cos, -sin * H / W, 0 * cos], 1),
                       np.stack([sin * W / H, cos, 0 * cos], 1)], 1)
    matrix = torch.from_numpy(matrix).to(t.device, t.dtype)
    grid = F.affine_grid(matrix, list(t.shape), align_corners=False)
    out = F.grid_sample(t, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out if isinstance(x, torch.Tensor) else out.numpy()


class Augment:
    """Random shifts, flips and rotations, applied in that order to a batch: ``augment(x, rng)``.

    Args:
        shift: largest shift in pixels (:func:`random_shift`). Default: 0.
        flip: mirror half the images left-right (:func:`random_flip`). Default: False.
        degrees: largest rotation in degrees (:func:`random_rotation`). Default: 0.

    Example:
        >>> augment = Augment(shift=2, degrees=10)
        >>> augment
        Augment(shift=2, flip=False, degrees=10)
        >>> augment(np.zeros((4, 1, 28, 28), np.float32), np.random.default_rng(0)).shape
        (4, 1, 28, 28)
    """

    def __init__(self, shift: int = 0, flip: bool = False, degrees: float = 0):
        if not (isinstance(shift, (int, np.integer)) and shift >= 0):
            raise ValueError(f"shift must be an int >= 0 (pixels); got shift={shift!r}")
        if not (isinstance(degrees, (int, float)) and 0 <= degrees <= 180 and math.isfinite(degrees)):
            raise ValueError(f"degrees must be a number in [0, 180]; got degrees={degrees!r}")
        self.shift, self.flip, self.degrees = int(shift), bool(flip), degrees

    def __call__(self, x, rng: np.random.Generator):
        x = random_shift(x, self.shift, rng)
        if self.flip:
            x = random_flip(x, rng)
        return random_rotation(x, self.degrees, rng)

    def __repr__(self) -> str:
        return f"Augment(shift={self.shift}, flip={self.flip}, degrees={self.degrees})"

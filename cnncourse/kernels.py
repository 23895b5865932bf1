"""Named hand-designed 3x3 kernels: the filters people used before networks learned their own.

Each kernel is meant for *cross-correlation*, the operation that deep-learning libraries call
"convolution" (``torch.nn.functional.conv2d``, :func:`cnncourse.numpy_ops.conv2d`): the output
at a pixel is ``sum over (i, j) of kernel[i, j] * window[i, j]``, with no flip.

=============  ==================================  ============================================
name           values                              what the output shows
=============  ==================================  ============================================
identity       a single 1 in the centre            the image itself
box_blur       all 1/9                             the mean of the 3x3 neighbourhood
gaussian       [1 2 1; 2 4 2; 1 2 1] / 16          a softer blur, the centre counts most
sharpen        [0 -1 0; -1 5 -1; 0 -1 0]           the image plus its edges (sums to 1)
sobel_x        [-1 0 1; -2 0 2; -1 0 1]            brightness increasing to the right (> 0)
sobel_y        [-1 -2 -1; 0 0 0; 1 2 1]            brightness increasing downwards (> 0)
laplacian      [0 1 0; 1 -4 1; 0 1 0]              curvature: blobs, thin lines (sums to 0)
edge           [-1 -1 -1; -1 8 -1; -1 -1 -1]       edges in every direction (sums to 0)
=============  ==================================  ============================================

Kernels that sum to 0 give 0 on flat regions, so they only respond where brightness changes.

Example:
    >>> get_kernel("sobel_x")
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

__all__ = ["KERNEL_NAMES", "get_kernel", "kernel_bank"]

_KERNELS: dict[str, list[list[float]]] = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box_blur": [[1 / 9] * 3] * 3,
    "gaussian": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
}

#: The names :func:`get_kernel` accepts, in a fixed teaching order.
KERNEL_NAMES: tuple[str, ...] = tuple(_KERNELS)


def get_kernel(name: str, dtype=np.float32) -> np.ndarray:
    """Return the named 3x3 kernel as a new ``(3, 3)`` array (changing it is safe).

    Args:
        name: one of :data:`KERNEL_NAMES` (``"identity"``, ``"box_blur"``, ``"gaussian"``,
            ``"sharpen"``, ``"sobel_x"``, ``"sobel_y"``, ``"laplacian"``, ``"edge"``).
        dtype: floating-point dtype of the result. Default: ``np.float32``.

    Shape:
        ``(KH, KW) = (3, 3)``.

    Returns:
        The kernel, laid out for cross-correlation (``conv2d``), not flipped.

    Raises:
        ValueError: for an unknown name; the message lists the known names.

    Example:
        >>> float(get_kernel("sharpen").sum())
        1.0
    """
    if not isinstance(name, str) or name not in _KERNELS:
        raise ValueError(
            f"unknown kernel name {name!r}; choose one of: {', '.join(KERNEL_NAMES)}"
        )
    return np.array(_KERNELS[name], dtype=dtype)


def kernel_bank(names=KERNEL_NAMES, dtype=np.float32) -> np.ndarray:
    """Stack named kernels into a conv2d ``weight`` for a one-channel input.

    Args:
        names: kernel names, in the order of the output channels. Default: all of them.
        dtype: floating-point dtype. Default: ``np.float32``.

    Shape:
        ``(F, 1, 3, 3)`` with ``F = len(names)``: filter ``f`` is ``get_kernel(names[f])``.

    Returns:
        A new array, ready for ``conv2d(x, kernel_bank(...))`` with ``x`` of shape ``(N, 1, H, W)``.

    Example:
        >>> kernel_bank(["sobel_x", "sobel_y"]).shape
        (2, 1, 3, 3)
    """
    if isinstance(names, str):
        names = [names]
    return np.stack([get_kernel(n, dtype) for n in names])[:, None]

"""Mouse strokes to MNIST-style digits, and digits moved by whole pixels (the "draw a digit"
explorer of lesson 4 and its shift experiment).

- :func:`strokes_to_image` turns mouse strokes into a 28x28 digit prepared the way MNIST's were
  (scaled into a 20x20 box, centred by its centre of mass);
- :func:`shift_image` moves images by whole pixels, zeros coming in at the edges.

Both are pure NumPy functions, tested without a browser.
"""
from __future__ import annotations

import numpy as np

__all__ = ["strokes_to_image", "shift_image", "DIGIT_SIZE", "BOX_SIZE"]

#: Side of the digits (MNIST: 28x28), and of the box the drawing is scaled into (MNIST: 20x20).
DIGIT_SIZE, BOX_SIZE = 28, 20
#: The drawing is rasterised on a grid of this many pixels per side before it is shrunk.
_GRID = 112


def _check_positive(name, value, kind=(int, float, np.integer, np.floating)):
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        raise ValueError(f"{name} must be a positive number; got {name}={value!r}")


def _as_strokes(strokes) -> list:
    if isinstance(strokes, np.ndarray) and strokes.ndim == 2:
        strokes = [strokes]  # one stroke given as a (P, 2) array
    try:
        out = [np.asarray(s, dtype=np.float64).reshape(-1, 2) if len(s) else np.zeros((0, 2))
               for s in strokes]
    except (TypeError, ValueError):
        raise ValueError("strokes must be a list of strokes, each a list of (x, y) points, e.g. "
                         "[[(140, 40), (140, 240)]]; got " + repr(strokes)[:80]) from None
    for k, s in enumerate(out):
        if not np.all(np.isfinite(s)):
            raise ValueError(f"strokes[{k}] holds a point that is not finite: {s.tolist()[:4]}")
    return out


def _rasterise(strokes, canvas_size, line_width) -> np.ndarray:
    """The strokes drawn as anti-aliased thick lines on a ``_GRID x _GRID`` grid."""
    scale = _GRID / canvas_size
    radius = 0.5 * line_width * scale
    centres = np.stack(np.meshgrid(np.arange(_GRID) + 0.5, np.arange(_GRID) + 0.5,
                                   indexing="xy"), axis=-1).reshape(-1, 2)  # (x, y) of each pixel
    segments = []
    for s in strokes:
        points = np.clip(s, 0, canvas_size) * scale
        if len(points) == 1:  # a click: a dot
            points = np.concatenate([points, points])
        segments.append(np.stack([points[:-1], points[1:]], axis=1))
    segments = np.concatenate(segments) if segments else np.zeros((0, 2, 2))
    grid = np.zeros(_GRID * _GRID)
    for start in range(0, len(segments), 128):  # chunks keep the (pixels, segments) array small
        a, b = segments[start:start + 128, 0], segments[start:start + 128, 1]   # (M, 2) each
        ab = b - a
        length2 = np.maximum((ab ** 2).sum(axis=1), 1e-12)
        t = np.clip(((centres[:, None, :] - a) * ab).sum(axis=2) / length2, 0.0, 1.0)
        nearest = a + t[..., None] * ab                                         # (pixels, M, 2)
        distance = np.sqrt(((centres[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1)
        grid = np.maximum(grid, np.clip(radius - distance + 0.5, 0.0, 1.0))
    return grid.reshape(_GRID, _GRID)


def strokes_to_image(strokes, canvas_size: int = 280, line_width: float = 20.0) -> np.ndarray:
    """A mouse drawing as a 28x28 digit, prepared like MNIST's.

    The strokes are drawn as lines ``line_width`` wide (anti-aliased), cut to their bounding
    box, scaled so that its longer side is 20 pixels (keeping the aspect ratio), scaled to a
    maximum of 1 and placed in a 28x28 image with their centre of mass at its centre
    (rounded to whole pixels, kept inside the image), as LeCun, Cortes and Burges prepared MNIST.

    Args:
        strokes: a list of strokes, each a sequence of ``(x, y)`` points in canvas pixels
            (``x`` to the right, ``y`` down, as the mouse reports them); points outside the
            canvas are clipped to its edge. A stroke of one point is a dot. No points: a blank.
        canvas_size: side of the square canvas, in pixels. Default: 280.
        line_width: pen width in canvas pixels. Default: 20.

    Shape:
        Output ``(28, 28)`` float64 in ``[0, 1]``, white digit (1) on black (0), as
        ``cnncourse.data.load_mnist(as_torch=True)`` gives.

    Returns:
        The digit; all zeros when there is nothing drawn.

    Example:
        >>> one = strokes_to_image([[(140, 40), (140, 240)]])   # a vertical line: a "1"
        >>> one.shape, one.dtype, float(one.max()), int((one[:, 13:15] > 0.5).sum() > 15)
        ((28, 28), dtype('float64'), 1.0, 1)
    """
    from scipy.ndimage import center_of_mass
    from skimage.transform import resize

    _check_positive("canvas_size", canvas_size)
    _check_positive("line_width", line_width)
    strokes = [s for s in _as_strokes(strokes) if len(s)]
    image = np.zeros((DIGIT_SIZE, DIGIT_SIZE))
    if not strokes:
        return image
    grid = _rasterise(strokes, canvas_size, line_width)
    rows, cols = np.nonzero(grid > 0)
    crop = grid[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    factor = BOX_SIZE / max(crop.shape)
    shape = tuple(max(1, int(round(n * factor))) for n in crop.shape)
    small = np.clip(resize(crop, shape, order=1, anti_aliasing=True, mode="constant"), 0, None)
    if small.max() <= 0:
        return image
    small = small / small.max()
    cy, cx = center_of_mass(small)
    centre = (DIGIT_SIZE - 1) / 2
    top = int(np.clip(round(centre - cy), 0, DIGIT_SIZE - shape[0]))
    left = int(np.clip(round(centre - cx), 0, DIGIT_SIZE - shape[1]))
    image[top:top + shape[0], left:left + shape[1]] = small
    return image


def shift_image(img, dx: int = 0, dy: int = 0):
    """Move images ``dx`` pixels right and ``dy`` pixels down; zeros come in at the edges.

    Formula: ``out[..., i, j] = img[..., i - dy, j - dx]`` where that pixel exists, else 0
    (no wrap-around: what leaves the image is lost).

    Args:
        img: an array of one or more images, ``(..., H, W)``: a digit ``(28, 28)``, a batch
            ``(N, 1, 28, 28)``...
        dx: pixels to the right (negative: to the left). Default: 0.
        dy: pixels down (negative: up). Default: 0.

    Shape:
        Output: the shape and dtype of ``img``.

    Returns:
        A new array.

    Example:
        >>> shift_image(np.arange(6).reshape(2, 3), dx=1).tolist()
        [[0, 0, 1], [0, 3, 4]]
    """
    img = np.asarray(img)
    if img.ndim < 2:
        raise ValueError(f"img must hold images (..., H, W) with at least 2 dimensions; got "
                         f"shape {img.shape}")
    for name, value in (("dx", dx), ("dy", dy)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be a whole number of pixels (an int); got "
                             f"{name}={value!r}")
    H, W = img.shape[-2:]
    out = np.zeros_like(img)
    if abs(dy) >= H or abs(dx) >= W:
        return out
    src_r, dst_r = slice(max(0, -dy), H - max(0, dy)), slice(max(0, dy), H - max(0, -dy))
    src_c, dst_c = slice(max(0, -dx), W - max(0, dx)), slice(max(0, dx), W - max(0, -dx))
    out[..., dst_r, dst_c] = img[..., src_r, src_c]
    return out

"""Documents: handwritten amounts composed of real MNIST test digits, and a real page scan.

:func:`compose_amount` writes a number the way it might appear on a cheque, each digit a
real handwritten MNIST digit from the *test* split of :func:`~cnncourse.data.load_mnist`
(so a CNN trained on the training split has never seen it), and returns the true text,
the box of every digit and which MNIST digit it is. :func:`load_page` returns
scikit-image's photo of a printed page (uneven light, slightly curved lines) with the
rows of its text lines, marked by hand.
"""
from __future__ import annotations

import functools
import numbers
from typing import NamedTuple

import numpy as np

from ._common import check_int
from .mnist import load_mnist
from .samples import sample_image

__all__ = ["compose_amount", "load_page", "Amount", "PageScan", "PAGE_LINES"]

# (first row, last row + 1, text) of each text line of skimage.data.page(), marked by hand
# on a 3x enlargement (see data/README.md); the page is curved, so a line's ink can sit
# 2-3 rows higher or lower at its ends, and descenders of one line reach the next.
PAGE_LINES = (
    (12, 35, "Region-based segmentation"),
    (50, 67, "Let us first determine markers of the coins and the"),
    (67, 84, "background. These markers are pixels that we can label"),
    (84, 101, "unambiguously as either object or background. Here,"),
    (102, 119, "the markers are found at the two extreme parts of the"),
    (119, 136, "histogram of grey values:"),
    (170, 191, ">>> markers = np.zeros_like(coins)"),
)


class Amount(NamedTuple):
    """A handwritten number made of MNIST test digits, with its ground truth."""

    image: np.ndarray
    """``(28 + 2 * jitter, W)`` ``uint8``, white ink (255) on black (0), like MNIST."""
    text: str
    """The digits written, left to right, e.g. ``"4072"``."""
    boxes: np.ndarray
    """``(n, 4)`` ``int64`` ``(x0, y0, x1, y1)`` of each digit's ink, left to right;
    columns ``x0..x1-1``, rows ``y0..y1-1`` (the convention of ``torchvision.ops``)."""
    labels: np.ndarray
    """``(n,)`` ``int64``: the digit of each box (``int(text[i])``)."""
    index: np.ndarray
    """``(n,)`` ``int64``: position of each digit in ``load_mnist("test")``."""


class PageScan(NamedTuple):
    """A photo of a printed page and where its text lines are."""

    image: np.ndarray
    """``(191, 384)`` ``uint8`` gray, dark ink on light paper."""
    lines: np.ndarray
    """``(7, 2)`` ``int64`` ``(first row, last row + 1)`` of each text line, top to bottom."""
    texts: tuple
    """The text of each line."""


@functools.lru_cache(maxsize=1)
def _test_digits() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """The MNIST test split (read-only) and the indices of each digit 0-9 in it."""
    images, labels = load_mnist("test")
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels, tuple(np.flatnonzero(labels == d) for d in range(10))


def _check_range(name: str, value, low: int) -> tuple[int, int]:
    ok = (isinstance(value, tuple) and len(value) == 2
          and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value))
    if not ok or not low <= value[0] <= value[1]:
        raise ValueError(f"{name} must be a pair of ints (low, high) with {low} <= low <= "
                         f"high; got {name}={value!r}")
    return int(value[0]), int(value[1])


def compose_amount(text: str | None = None, *, n_digits=(3, 6), seed: int = 0,
                   gap=(2, 8), jitter: int = 2) -> Amount:
    """Write a number with real handwritten MNIST test digits, as on a cheque.

    Each digit's 28x28 image is cut to the columns that hold ink, then pasted left to
    right with a random gap and a random vertical shift; where two digits overlap the
    brighter pixel wins (``np.maximum``). With ``gap >= 1`` the digits never touch, but
    one handwritten digit can still fall apart into several pieces (a broken stroke), as
    real ones do.

    Everything random comes from ``numpy.random.RandomState(seed)``: which digits (when
    ``text`` is None), which MNIST example of each, the gaps and the shifts. The same
    arguments always give the same image.

    Args:
        text: the digits to write, e.g. ``"1250"``; None draws ``n`` random digits, the
            first not 0. Default: None.
        n_digits: ``(low, high)``: ``n`` is drawn from ``low..high`` when ``text`` is None.
            Default: ``(3, 6)``.
        seed: seed of everything random. Default: 0.
        gap: ``(low, high)`` blank columns between two digits, drawn from ``low..high``
            (``low >= -10``); 0 lets digits touch, negative values make them overlap (a
            digit still starts at least one column right of the one before). Default:
            ``(2, 8)``.
        jitter: largest vertical shift of a digit, in pixels. Default: 2.

    Shape:
        ``image`` ``(28 + 2 * jitter, W)`` with ``W = 8 + sum(ink widths) + sum(gaps)``
        (a 4-pixel margin on each side; ``n - 1`` gaps) when no step is clamped;
        ``boxes`` ``(n, 4)``; ``labels`` and ``index`` ``(n,)``.

    Returns:
        An :class:`Amount` ``(image, text, boxes, labels, index)``. Raises ``ValueError``
        naming the argument for a bad ``text``, ``n_digits``, ``gap`` or ``jitter``.

    Example:
        >>> amount = compose_amount("1250", seed=3)
        >>> amount.text, amount.image.shape[0], amount.labels.tolist()
        ('1250', 32, [1, 2, 5, 0])
    """
    seed = check_int("seed", seed, 0, 2**32 - 1)
    jitter = check_int("jitter", jitter, 0, 20)
    gap_low, gap_high = _check_range("gap", gap, -10)
    rng = np.random.RandomState(seed)
    if text is None:
        low, high = _check_range("n_digits", n_digits, 1)
        n = rng.randint(low, high + 1)
        text = str(rng.randint(1, 10)) + "".join(str(d) for d in rng.randint(0, 10, n - 1))
    elif not isinstance(text, str) or not text or not all(ch in "0123456789" for ch in text):
        raise ValueError(f"text must be a non-empty string of the digits 0-9 (no spaces, "
                         f"signs or decimal points: MNIST has only digits); got text={text!r}")
    images, _labels, by_digit = _test_digits()
    index = np.array([by_digit[int(ch)][rng.randint(len(by_digit[int(ch)]))] for ch in text])
    pieces, gaps, shifts = [], [], []
    for i in index:
        columns = np.flatnonzero(images[i].max(axis=0) > 0)
        pieces.append(images[i][:, columns[0]:columns[-1] + 1])
        shifts.append(rng.randint(-jitter, jitter + 1))
        gaps.append(rng.randint(gap_low, gap_high + 1))
    # left edge of each digit: a step never goes backwards, even for a thin "1" and gap < 0
    margin, height = 4, 28 + 2 * jitter
    xs = [margin]
    for piece, g in zip(pieces[:-1], gaps[:-1]):
        xs.append(xs[-1] + max(piece.shape[1] + g, 1))
    image = np.zeros((height, xs[-1] + pieces[-1].shape[1] + margin), dtype=np.uint8)
    boxes = []
    for piece, x, dy in zip(pieces, xs, shifts):
        top, w = jitter + dy, piece.shape[1]
        region = image[top:top + 28, x:x + w]
        np.maximum(region, piece, out=region)
        rows = np.flatnonzero(piece.max(axis=1) > 0)
        boxes.append((x, top + rows[0], x + w, top + rows[-1] + 1))
    labels = np.array([int(ch) for ch in text], dtype=np.int64)
    return Amount(image, text, np.array(boxes, dtype=np.int64), labels, index.astype(np.int64))


def load_page() -> PageScan:
    """Load scikit-image's photo of a printed page and the rows of its 7 text lines.

    The light falls off from right to left, so one global threshold cannot separate ink
    from paper everywhere (try ``skimage.filters.threshold_otsu`` against
    ``threshold_sauvola``). The lines were marked by hand: ``lines[i]`` is the band of
    rows ``first..last`` that holds line ``i``'s letters (descenders included) in the
    middle of the page, accurate to about 2 rows; the title is line 0 and the code line,
    below a horizontal rule, is line 6. A cut-off line of small text peeks in at the
    bottom left corner and is not counted.

    Shape:
        ``image`` ``(191, 384)`` ``uint8``; ``lines`` ``(7, 2)`` ``int64``.

    Returns:
        A :class:`PageScan` ``(image, lines, texts)`` with a fresh image.

    Source and licence: ``skimage.data.page()`` (bundled in scikit-image, BSD-3-Clause;
    no separate licence stated). See ``data/README.md``.

    Example:
        >>> page = load_page()
        >>> page.image.shape, len(page.lines), page.texts[0]
        ((191, 384), 7, 'Region-based segmentation')
    """
    lines = np.array([(a, b) for a, b, _ in PAGE_LINES], dtype=np.int64)
    return PageScan(sample_image("page"), lines, tuple(t for _, _, t in PAGE_LINES))

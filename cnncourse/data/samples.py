"""Sample photos and tiny digits that ship inside scikit-image and scikit-learn (no download).

:func:`sample_image` reads only the images that the scikit-image wheel bundles in its own
``skimage/data`` folder (the others in ``skimage.data`` are downloaded on first use and are
left out on purpose); :func:`load_digits8x8` reads scikit-learn's bundled ``load_digits``.
"""
from __future__ import annotations

import numpy as np

from ._common import check_choice, to_torch

__all__ = ["sample_image", "load_digits8x8", "SAMPLE_IMAGES"]

# name -> (file in the installed skimage/data folder, what it shows, licence as stated in
# scikit-image's docstrings; "not stated" where they give none).
SAMPLE_IMAGES = {
    "astronaut": (
        "astronaut.png", "colour photo of astronaut Eileen Collins, 512x512",
        "public domain (NASA)",
    ),
    "brick": (
        "brick.png", "gray texture: a brick wall, 512x512",
        "CC0 (CC0Textures)",
    ),
    "camera": (
        "camera.png", "gray photo of a cameraman, 512x512",
        "CC0 (Lav Varshney)",
    ),
    "cat": (
        "chelsea.png", "colour photo of Chelsea the cat (same as 'chelsea'), 300x451",
        "CC0 (Stefan van der Walt)",
    ),
    "cell": (
        "cell.png", "gray microscopy image of a cell, 660x550",
        "CC0",
    ),
    "checkerboard": (
        "chessboard_GRAY.png", "gray checkerboard, 200x200",
        "not stated (ships with scikit-image)",
    ),
    "chelsea": (
        "chelsea.png", "colour photo of Chelsea the cat, 300x451",
        "CC0 (Stefan van der Walt)",
    ),
    "clock": (
        "clock_motion.png", "gray photo of a wall clock with motion blur, 300x400",
        "public domain (Stefan van der Walt)",
    ),
    "coffee": (
        "coffee.png", "colour photo of a cup of coffee, 400x600",
        "CC0 (Rachel Michetti)",
    ),
    "coins": (
        "coins.png", "gray photo of Greek coins, 303x384",
        "no known copyright restrictions (Brooklyn Museum)",
    ),
    "colorwheel": (
        "color.png", "colour wheel, 370x371",
        "not stated (ships with scikit-image)",
    ),
    "grass": (
        "grass.png", "gray texture: grass, 512x512",
        "CC0 (DeviantArt, linolafett)",
    ),
    "gravel": (
        "gravel.png", "gray texture: gravel, 512x512",
        "CC0 (CC0Textures)",
    ),
    "horse": (
        "horse.png", "binary silhouette of a horse, 328x400 (0 or 255)",
        "CC0 (openclipart, Andreas Preuss)",
    ),
    "hubble_deep_field": (
        "hubble_deep_field.jpg", "colour Hubble eXtreme Deep Field, 872x1000",
        "public domain (NASA)",
    ),
    "immunohistochemistry": (
        "ihc.png", "colour immunohistochemistry stain, 512x512",
        "no known copyright restrictions",
    ),
    "logo": (
        "logo.png", "colour scikit-image logo, 500x500 (alpha dropped)",
        "not stated (ships with scikit-image)",
    ),
    "microaneurysms": (
        "microaneurysms.png", "gray retina detail with microaneurysms, 102x102",
        "CC0 (Andreas Maier, HRF database)",
    ),
    "moon": (
        "moon.png", "gray low-contrast photo of the lunar surface, 512x512",
        "not stated (ships with scikit-image)",
    ),
    "page": (
        "page.png", "gray scan of a printed page, uneven light, 191x384",
        "not stated (ships with scikit-image)",
    ),
    "retina": (
        "retina.jpg", "colour fundus photo of a human retina, 1411x1411",
        "CC0 (Wikimedia Commons)",
    ),
    "rocket": (
        "rocket.jpg", "colour photo of a SpaceX rocket launch, 427x640",
        "public domain (SpaceX)",
    ),
    "text": (
        "text.png", "gray photo of handwritten text, 172x448",
        "public domain (Wikimedia Commons)",
    ),
}

# ITU-R BT.709 luma, the weights of skimage.color.rgb2gray.
_LUMA = np.array([0.2125, 0.7154, 0.0721])


def sample_image(name: str, gray: bool = False) -> np.ndarray:
    """A sample photo bundled with scikit-image, as ``uint8`` pixels in ``0..255``.

    Gray conversion: ``Y = round(0.2125 R + 0.7154 G + 0.0721 B)`` (as ``skimage.color.rgb2gray``,
    but kept in ``0..255``). The RGBA ``logo`` (fully opaque) loses its alpha channel; the
    boolean ``horse`` becomes 0 / 255.

    Args:
        name: one of :data:`SAMPLE_IMAGES` (e.g. ``"camera"``, ``"chelsea"``, ``"brick"``);
            the same names as the functions in ``skimage.data``. Each entry of
            ``SAMPLE_IMAGES`` is ``(file, description, licence)``.
        gray: convert colour images to one gray channel. Default: False.

    Shape:
        ``(H, W)`` for gray images (and whenever ``gray=True``), ``(H, W, 3)`` for colour.

    Returns:
        A fresh ``uint8`` array (yours to modify). Raises ``ValueError`` listing the valid
        names for an unknown one.

    Source and licence: the scikit-image wheel's ``skimage/data`` folder; each image's
    licence is in :data:`SAMPLE_IMAGES` and ``data/README.md``.

    Example:
        >>> sample_image("camera").shape, sample_image("chelsea", gray=True).dtype
        ((512, 512), dtype('uint8'))
    """
    check_choice("name", name, SAMPLE_IMAGES)
    import skimage.data

    image = np.asarray(getattr(skimage.data, name)())
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 3 and image.shape[2] == 4:  # the logo: its alpha is 255 everywhere
        image = image[..., :3]
    if gray and image.ndim == 3:
        image = np.clip(np.rint(image @ _LUMA), 0, 255).astype(np.uint8)
    return np.array(image, dtype=np.uint8, copy=True)


def load_digits8x8(*, as_torch: bool = False):
    """scikit-learn's 1,797 handwritten digits at 8x8 pixels, 17 gray levels.

    Args:
        as_torch: return tensors ready for a CNN instead of NumPy arrays. Default: False.

    Shape:
        NumPy (default): images ``(1797, 8, 8)`` ``uint8`` in ``0..16`` (the number of ink
        pixels in a 4x4 block of a 32x32 scan); labels ``(1797,)`` ``int64`` in ``0..9``.
        With ``as_torch=True``: images ``(1797, 1, 8, 8)`` ``float32`` in ``[0, 1]``
        (``value / 16``), labels ``int64``.

    Returns:
        ``(images, labels)`` in scikit-learn's order (no split: use
        :func:`cnncourse.data.stratified_split` or your own).

    Source and licence: UCI "Optical Recognition of Handwritten Digits" (Alpaydin and
    Kaynak, 1998), CC BY 4.0, as bundled in scikit-learn (``sklearn.datasets.load_digits``).

    Example:
        >>> x, y = load_digits8x8()
        >>> x.shape, int(x.max()), y[:3].tolist()
        ((1797, 8, 8), 16, [0, 1, 2])
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.uint8)
    labels = digits.target.astype(np.int64)
    return to_torch(images, labels, max_value=16) if as_torch else (images, labels)

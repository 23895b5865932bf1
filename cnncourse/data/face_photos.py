"""Real photos with faces, their face boxes marked by hand, and a classical face detector.

scikit-image bundles only two photos with a human face: ``astronaut`` (Eileen Collins,
one frontal face) and ``camera`` (a cameraman seen in profile, his face partly hidden by
the camera). Both are read from scikit-image at run time; the boxes, drawn by hand on
3x enlargements, live here. The pixels are checked against the SHA-256 of the photos
the boxes were drawn on, so a different photo in another scikit-image version is caught
instead of silently scored against the wrong boxes.

:func:`face_cascade` loads the LBP frontal-face cascade (trained by OpenCV) that
scikit-image ships, for ``skimage.feature.Cascade.detect_multi_scale``.

Two photos and two faces measure nothing statistically: use them to show what a sliding
window detector and non-maximum suppression do, and to compare with the cascade by eye.
"""
from __future__ import annotations

import hashlib
from typing import NamedTuple

import numpy as np

from ._bundled import ChecksumError
from ._common import check_choice
from .samples import sample_image

__all__ = ["load_face_photo", "face_cascade", "FacePhoto", "FACE_PHOTOS"]

# name -> (face boxes (x0, y0, x1, y1), SHA-256 of the scikit-image pixels, what it shows)
FACE_PHOTOS = {
    "astronaut": (
        ((181, 75, 274, 181),),
        "a8c429c18afa7b0fd5673e598d73a21225d94c864a71bbb3885126fdecb41071",
        "one frontal, smiling face, evenly lit; box from the hairline to the chin and "
        "from cheek to cheek",
    ),
    "camera": (
        ((183, 122, 257, 192),),
        "5cb24482a53416f99052258be2b1ee38cd31c559a70c8a8b321cba231b332e21",
        "one face in profile, looking into a camera that hides part of it; box from the "
        "hairline to the chin and from the ear to the tip of the nose",
    ),
}


class FacePhoto(NamedTuple):
    """A photo and the boxes of the faces in it."""

    image: np.ndarray
    """``(512, 512)`` ``uint8`` gray (or ``(512, 512, 3)`` colour for the astronaut)."""
    boxes: np.ndarray
    """``(n, 4)`` ``int64`` ``(x0, y0, x1, y1)``: columns ``x0..x1-1``, rows ``y0..y1-1``
    (the convention of ``torchvision.ops.box_iou`` and ``nms``)."""


def load_face_photo(name: str, gray: bool = True) -> FacePhoto:
    """Load a scikit-image photo with a face and its hand-marked face box.

    Box convention: ``(x0, y0, x1, y1)`` with ``x`` the column and ``y`` the row; the box
    covers ``image[y0:y1, x0:x1]``, so its area is ``(x1 - x0) * (y1 - y0)``. To compare
    with ``skimage.feature.Cascade``, whose detections are dicts ``{"r", "c", "width",
    "height"}``, use ``(c, r, c + width, r + height)``.

    Args:
        name: ``"astronaut"`` or ``"camera"`` (the keys of :data:`FACE_PHOTOS`).
        gray: convert a colour photo to gray as :func:`~cnncourse.data.sample_image`
            does. Default: True.

    Shape:
        ``image`` ``(512, 512)`` (``(512, 512, 3)`` for the colour astronaut with
        ``gray=False``); ``boxes`` ``(n, 4)``, ``n = 1`` for both photos.

    Returns:
        A :class:`FacePhoto` ``(image, boxes)`` of fresh arrays. Raises ``ValueError`` for
        an unknown name, :class:`~cnncourse.data.ChecksumError` when scikit-image's photo
        is not the one the boxes were drawn on.

    Source and licence: ``skimage.data`` (astronaut: NASA, public domain; camera: CC0,
    Lav Varshney); boxes by the course (MIT). See ``data/README.md``.

    Example:
        >>> photo = load_face_photo("astronaut")
        >>> photo.image.shape, photo.boxes.tolist()
        ((512, 512), [[181, 75, 274, 181]])
    """
    check_choice("name", name, FACE_PHOTOS)
    boxes, expected, _ = FACE_PHOTOS[name]
    original = sample_image(name)
    actual = hashlib.sha256(np.ascontiguousarray(original).tobytes()).hexdigest()
    if actual != expected:
        import skimage

        raise ChecksumError(
            f"skimage.data.{name}() of scikit-image {skimage.__version__} has pixels with "
            f"SHA-256 {actual}, not {expected}: it is not the photo the face boxes were "
            f"drawn on (scikit-image 0.26), so the boxes would be wrong. Install "
            f"scikit-image 0.26, or redraw the boxes in cnncourse/data/face_photos.py.")
    image = sample_image(name, gray=True) if gray else original
    return FacePhoto(image, np.array(boxes, dtype=np.int64))


def face_cascade():
    """The LBP frontal-face cascade that scikit-image ships, ready to detect faces.

    Returns:
        A ``skimage.feature.Cascade``; call ``detect_multi_scale(img=gray_float_image,
        scale_factor=1.2, step_ratio=1, min_size=(24, 24), max_size=(200, 200))`` on a
        gray image in ``[0, 1]`` to get a list of ``{"r", "c", "width", "height"}`` dicts.

    Source and licence: OpenCV's ``lbpcascade_frontalface.xml`` (3-clause BSD licence of
    OpenCV), trained on 24x24 frontal faces, shipped in scikit-image as
    ``skimage.data.lbp_frontal_face_cascade_filename()``.

    Example:
        >>> detections = face_cascade().detect_multi_scale(
        ...     img=load_face_photo("astronaut").image / 255, scale_factor=1.2, step_ratio=1,
        ...     min_size=(60, 60), max_size=(200, 200))
        >>> len(detections)
        1
    """
    import skimage.data
    from skimage.feature import Cascade

    return Cascade(skimage.data.lbp_frontal_face_cascade_filename())

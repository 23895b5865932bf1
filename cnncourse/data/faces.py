"""Faces and non-faces: the 200 tiny gray patches of ``skimage.data.lfw_subset()``.

Enough to train a face / non-face CNN in seconds and then slide it over a photo
(e.g. ``sample_image("astronaut", gray=True)``) to find faces.
"""
from __future__ import annotations

import numpy as np

from ._common import check_choice, stratified_split, to_torch

__all__ = ["load_faces", "FACE_CLASSES"]

FACE_CLASSES = ("non-face", "face")
_N_TEST = 40
_SEED = 0


def load_faces(split: str = "train", *, as_torch: bool = False):
    """Load 25x25 gray patches labelled face (1) or non-face (0), with a fixed split.

    The 100 faces are crops from the Labeled Faces in the Wild (LFW) photos; the 100
    non-faces are crops of the backgrounds of the same photos; all resized to 25x25 pixels.
    The split is fixed: 40 test patches (20 faces, 20 non-faces) chosen with
    ``stratified_split(labels, n_test=40, seed=0)``, the other 160 for training.

    Args:
        split: ``"train"`` (160 patches) or ``"test"`` (40). Default: ``"train"``.
        as_torch: return tensors ready for a CNN instead of NumPy arrays. Default: False.

    Shape:
        NumPy (default): images ``(N, 25, 25)`` ``float32`` in ``[0, 1]``; labels ``(N,)``
        ``int64``, ``0`` = non-face, ``1`` = face (names in :data:`FACE_CLASSES`).
        With ``as_torch=True``: images ``(N, 1, 25, 25)`` ``float32`` in ``[0, 1]``.

    Returns:
        ``(images, labels)`` in a shuffled order. Raises ``ValueError`` for an unknown split.

    Source and licence: ``skimage.data.lfw_subset()`` (bundled in the scikit-image wheel),
    from LFW (Huang, Ramesh, Berg, Learned-Miller, 2007; http://vis-www.cs.umass.edu/lfw/).
    LFW's photos are news photos of public figures collected from the web; LFW states no
    licence, and scikit-image redistributes this subset with its BSD-3-Clause package.

    Example:
        >>> x, y = load_faces("train")
        >>> x.shape, x.dtype, int(y.sum())
        ((160, 25, 25), dtype('float32'), 80)
    """
    check_choice("split", split, ("train", "test"))
    import skimage.data

    images = np.asarray(skimage.data.lfw_subset(), dtype=np.float32)
    labels = np.r_[np.ones(100, np.int64), np.zeros(100, np.int64)]
    train_index, test_index = stratified_split(labels, n_test=_N_TEST, seed=_SEED)
    index = train_index if split == "train" else test_index
    images, labels = images[index], labels[index]
    return to_torch(images, labels, max_value=1.0) if as_torch else (images, labels)

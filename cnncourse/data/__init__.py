"""Real datasets that work offline, and full-size MNIST one call away.

Every loader returns ``(images, labels)`` as NumPy arrays (images ``(N, H, W)``, labels
``int64``), or, with ``as_torch=True``, ``float32`` tensors ``(N, C, H, W)`` in ``[0, 1]``
and ``int64`` labels ready for a ``torch.nn`` CNN. Splits are fixed and seeded.

==========================  ==========================================================
:func:`load_mnist`          MNIST digits: 8,000 / 2,000 bundled (offline), or the full
                            60,000 / 10,000 downloaded once (``source="full"``)
:func:`mnist_dataset`       the same as a ``torch.utils.data.TensorDataset``
:func:`sample_image`        photos bundled with scikit-image (camera, chelsea, brick, ...)
:func:`load_digits8x8`      scikit-learn's 1,797 8x8 digits
:func:`load_faces`          200 25x25 faces / non-faces (LFW subset), 160 / 40 split
:func:`load_textures`       brick / grass / gravel patches, spatially separated split
:func:`make_shapes`         seeded synthetic lines, squares, circles, crosses
:func:`to_torch`            NumPy ``(images, labels)`` -> tensors; :func:`as_dataset`
==========================  ==========================================================

Data cards (source, licence, limits, size) are in ``data/README.md``; run
``python -m cnncourse.data`` to print each dataset's size on disk and load time.
Nothing here downloads unless you ask for ``source="full"``, and nothing writes into the
package folder.
"""
from ._bundled import ChecksumError
from ._common import as_dataset, stratified_split, to_torch
from .faces import FACE_CLASSES, load_faces
from .mnist import DownloadError, load_mnist, mnist_dataset
from .samples import SAMPLE_IMAGES, load_digits8x8, sample_image
from .synthetic import SHAPE_CLASSES, make_shapes
from .textures import TEXTURE_CLASSES, load_textures

__all__ = [
    "load_mnist",
    "mnist_dataset",
    "sample_image",
    "load_digits8x8",
    "load_faces",
    "load_textures",
    "make_shapes",
    "to_torch",
    "as_dataset",
    "stratified_split",
    "ChecksumError",
    "DownloadError",
    "SAMPLE_IMAGES",
    "FACE_CLASSES",
    "TEXTURE_CLASSES",
    "SHAPE_CLASSES",
]

"""Real datasets that work offline, and full-size MNIST one call away.

Every dataset loader returns ``(images, labels)`` as NumPy arrays (images ``(N, H, W)``,
labels ``int64``), or, with ``as_torch=True``, ``float32`` tensors ``(N, C, H, W)`` in
``[0, 1]`` and ``int64`` labels ready for a ``torch.nn`` CNN. Splits are fixed and seeded.
The lesson-6 loaders return one labelled scene each (a named tuple: image, mask or boxes,
...), from which a lesson cuts its own patches.

==========================  ==========================================================
:func:`load_mnist`          MNIST digits: 8,000 / 2,000 bundled (offline), or the full
                            60,000 / 10,000 downloaded once (``source="full"``)
:func:`mnist_dataset`       the same as a ``torch.utils.data.TensorDataset``
:func:`sample_image`        photos bundled with scikit-image (camera, chelsea, brick, ...)
:func:`load_digits8x8`      scikit-learn's 1,797 8x8 digits
:func:`load_faces`          200 25x25 faces / non-faces (LFW subset), 160 / 40 split
:func:`load_textures`       brick / grass / gravel patches, spatially separated split
:func:`make_shapes`         seeded synthetic lines, squares, circles, crosses
:func:`load_face_photo`     astronaut / cameraman photos with hand-marked face boxes;
                            :func:`face_cascade`, the LBP frontal-face detector
:func:`compose_amount`      a handwritten number made of MNIST test digits, with its text
:func:`load_page`           a photo of a printed page with its text lines marked
:func:`load_cells`          512x512 fluorescence nuclei with an instance mask (125 nuclei);
                            :func:`load_histology`, an unlabelled H&E photo
Landsat-8 cuts              :func:`load_landsat_clouds`: 6 bands, cloud labels from the
                            quality band; :func:`load_landsat_landcover`: RGB, 4 polygons
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
from .cells import load_cells, load_histology, nucleus_centres
from .documents import compose_amount, load_page
from .face_photos import FACE_PHOTOS, face_cascade, load_face_photo
from .landsat import (CLOUD_BANDS, LANDCOVER_CLASSES, cloud_labels, load_landsat_clouds,
                      load_landsat_landcover, qa_field)

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
    "load_face_photo",
    "face_cascade",
    "compose_amount",
    "load_page",
    "load_cells",
    "load_histology",
    "nucleus_centres",
    "load_landsat_clouds",
    "load_landsat_landcover",
    "qa_field",
    "cloud_labels",
    "FACE_PHOTOS",
    "CLOUD_BANDS",
    "LANDCOVER_CLASSES",
]

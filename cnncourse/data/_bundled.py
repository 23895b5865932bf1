"""Where the data files shipped inside the package live, and their SHA-256 checksums.

The files sit in ``cnncourse/data/files/`` so that they are installed with the package
(``[tool.setuptools.package-data]`` in ``pyproject.toml``) and found the same way from a git
checkout, an editable install or a wheel. They are only ever read: nothing is written into
the package directory at run time. ``data/README.md`` at the repository root holds their
data cards; the scripts in :data:`BUILD_SCRIPT` (under ``scripts/``) rebuild them byte for byte.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["FILES_DIR", "SHA256", "BUILD_SCRIPT", "ChecksumError", "sha256_file", "bundled_file"]

FILES_DIR = Path(__file__).resolve().parent / "files"

# SHA-256 of each bundled file; data/README.md records the same values.
SHA256 = {
    "mnist10k.npz": "9dfa176f2efbde6a109d11acb05302663cc76577983ee85bc849d04d983236a3",
    "cells.npz": "34753f25ffd3c1e353eb57d087dff3e4ab58aefe8b898ff4cc1e13cc7d0c3f6b",
    "landsat_clouds.npz": "825de4fd13069661900f7eb9eb20f7dd120767ea2665af56bb5fc074d34c02e8",
    "landsat_landcover.npz": "f758866632bf4fd0c16df368bf5fbda1e120896b25a36d8750792bd74c5eae3e",
}
# The script under scripts/ that rebuilds each file byte for byte.
BUILD_SCRIPT = {"mnist10k.npz": "build_mnist_subset.py", "cells.npz": "build_cells.py",
                "landsat_clouds.npz": "build_landsat.py",
                "landsat_landcover.npz": "build_landsat.py"}


class ChecksumError(OSError):
    """A data file is missing or its SHA-256 does not match the recorded one."""


def sha256_file(path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _restore_hint(name: str) -> str:
    rel = f"cnncourse/data/files/{name}"
    return (
        f"Restore it from a git checkout with `git checkout -- {rel}`, or reinstall the "
        f"package (`python -m pip install --force-reinstall --no-deps cnncourse`, or "
        f"`python -m pip install -e .` from the course folder)"
        + (f", or rebuild it with `python scripts/{BUILD_SCRIPT[name]}`."
           if name in BUILD_SCRIPT else ".")
    )


def bundled_file(name: str, *, files_dir=None, expected: str | None = None) -> Path:
    """Path of a bundled data file after checking its SHA-256.

    Args:
        name: file name inside ``cnncourse/data/files/`` (a key of :data:`SHA256`).
        files_dir: folder to look in instead of :data:`FILES_DIR` (for tests). Default: None.
        expected: checksum to compare with instead of ``SHA256[name]`` (for tests).

    Returns:
        The file's absolute ``Path``. Raises :class:`ChecksumError` (an ``OSError``) naming
        the file and how to restore it when the file is missing or damaged.
    """
    if name not in SHA256 and expected is None:
        raise ValueError(f"name must be one of {sorted(SHA256)}; got name={name!r}")
    path = Path(files_dir or FILES_DIR) / name
    expected = expected or SHA256[name]
    if not path.is_file():
        raise ChecksumError(f"bundled data file {path} is missing. {_restore_hint(name)}")
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumError(
            f"bundled data file {path} failed its SHA-256 check: expected {expected}, got "
            f"{actual}, so the file is damaged or was changed. {_restore_hint(name)}"
        )
    return path

"""Write a file so that a crash never leaves it truncated: temp file, fsync, ``os.replace``."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path, write, binary: bool = True) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, then move it onto ``path`` atomically.

    The temporary file (``<name>.<random>.tmp`` in the same folder, so the rename never crosses
    file systems) is flushed and ``fsync``-ed before ``os.replace`` renames it, which is atomic on
    POSIX and Windows: readers see the old file or the new one, never part of one. A failed
    ``write`` removes the temporary file; a hard crash can leave it behind, never ``path`` half
    written. The folder is created if missing, and ``fsync``-ed after the rename (POSIX).

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
        >>> atomic_write(target, lambda f: f.write("hello"), binary=False).read_text()
        'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path

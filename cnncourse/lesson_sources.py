"""Lesson sources: each lesson is written as text, and its notebook is built from it.

A lesson's source is ``lessons/NN_name.py`` in jupytext's *percent* format: plain Python, each
cell opened by a ``# %%`` line (``# %% [markdown]`` for prose, whose lines start with ``# ``),
the cell's metadata as ``key=value`` in that line::

    # %% [markdown] slideshow={"slide_type": "slide"}
    # ## 3. Padding, stride, dilation

    # %% nbgrader={"solution": true, "grade_id": "conv2d-solution"}
    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        ...

    # %% nbgrader={"grade": true, "grade_id": "conv2d", "points": 3}
    check("conv2d", conv2d)

    # %% tags=["nbval-ignore-output"]

The nbgrader metadata may be given short, as above: :func:`nbgrader_metadata` fills in the rest
(schema version 3, ``locked`` for test cells, ``task``). A one-line prose change is a one-line
diff; the source runs as a script too.

:func:`build` turns a source into ``notebooks/NN_name.ipynb``: the cells and their metadata, then
a fresh kernel runs it from top to bottom (in ``notebooks/``, like nbval) and the outputs and
widget state are saved — no execution times, cell ids derived from the cells' contents, so a
rebuild of an unchanged lesson changes nothing but what its outputs show.
:func:`stale` tells, without running anything, whether a stored notebook is still the one its
source builds (cells, sources and metadata); CI runs it (``tests/test_lesson_sources.py``).
``python scripts/build_lessons.py`` is the command line.

jupytext (the ``test`` extra) is needed to read sources; it is imported only when one is read.
"""
from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path

import nbformat

__all__ = ["SOURCE_FORMAT", "KERNELSPEC", "repository", "source_paths", "notebook_for",
           "nbgrader_metadata", "read_source", "write_source", "build", "stale"]

SOURCE_FORMAT = "py:percent"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_SOURCE_NAME = re.compile(r"^\d\d_[A-Za-z0-9_]+\.py$")
_NBGRADER_KEYS = {"grade", "grade_id", "locked", "points", "schema_version", "solution", "task"}
_CELL_KEYS = ("nbgrader", "slideshow", "tags")  # the cell metadata a source may carry
_RUN_ONLY_KEYS = ("execution", "collapsed", "scrolled", "jupyter")  # added by running, not ours
# jupytext's own notes on how the text was laid out (blank lines between cells...): not metadata
_LAYOUT_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker", "region_name")


def repository() -> Path:
    """The repository's root (the folder holding ``lessons/`` and ``notebooks/``)."""
    return Path(__file__).resolve().parent.parent


def source_paths(folder: Path | str | None = None) -> list[Path]:
    """The lesson sources (``NN_name.py``) of ``folder`` (default: the repository's
    ``lessons/``), in lesson order."""
    folder = Path(folder) if folder is not None else repository() / "lessons"
    return sorted(p for p in folder.iterdir() if _SOURCE_NAME.match(p.name))


def notebook_for(source: Path | str, notebooks: Path | str | None = None) -> Path:
    """``lessons/02_convolution.py`` → ``notebooks/02_convolution.ipynb``."""
    notebooks = Path(notebooks) if notebooks is not None else repository() / "notebooks"
    return notebooks / (Path(source).stem + ".ipynb")


def nbgrader_metadata(meta: dict, where: str = "a cell") -> dict:
    """nbgrader's full cell metadata (schema 3) from the short form a source may use.

    ``{"solution": true, "grade_id": "f-solution"}`` is a solution cell, unlocked;
    ``{"grade": true, "grade_id": "f", "points": 2}`` a test cell, locked.

    Example:
        >>> nbgrader_metadata({"grade": True, "grade_id": "f", "points": 2})
        {'grade': True, 'grade_id': 'f', 'locked': True, 'points': 2, 'schema_version': 3, 'solution': False, 'task': False}
    """
    unknown = set(meta) - _NBGRADER_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown nbgrader keys {sorted(unknown)}; allowed: "
                         f"{sorted(_NBGRADER_KEYS)}")
    if not isinstance(meta.get("grade_id"), str) or not meta["grade_id"]:
        raise ValueError(f"{where}: nbgrader metadata needs a grade_id (got {meta!r})")
    solution, grade = bool(meta.get("solution", False)), bool(meta.get("grade", False))
    if not (solution or grade):
        raise ValueError(f"{where}: an nbgrader cell is a solution (\"solution\": true) or a test "
                         f"(\"grade\": true) cell; got {meta!r}")
    if grade and "points" not in meta:
        raise ValueError(f"{where}: the test cell {meta['grade_id']!r} needs its points")
    full = {"grade": grade, "grade_id": meta["grade_id"], "locked": meta.get("locked", not solution),
            "schema_version": meta.get("schema_version", 3), "solution": solution,
            "task": meta.get("task", False)}
    if grade:
        full["points"] = meta["points"]
    return dict(sorted(full.items()))


def _cell_id(cell, seen: set) -> str:
    digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
    ident, k = digest, 1
    while ident in seen:  # two identical cells
        ident, k = f"{digest}-{k}", k + 1
    seen.add(ident)
    return ident


def read_source(path: Path | str):
    """The lesson notebook a source describes, not executed: its cells with their metadata
    (nbgrader's filled in), the course's kernel, deterministic cell ids."""
    import jupytext

    path = Path(path)
    nb = jupytext.read(str(path), fmt=SOURCE_FORMAT)
    seen: set = set()
    for index, cell in enumerate(nb.cells):
        where = f"{path.name}, cell {index} ({cell.cell_type}, starts {cell.source[:40]!r})"
        for key in _LAYOUT_KEYS:
            cell.metadata.pop(key, None)
        extra = set(cell.metadata) - set(_CELL_KEYS)
        if extra:
            raise ValueError(f"{where}: a source's cells carry only {', '.join(_CELL_KEYS)} "
                             f"metadata, not {sorted(extra)}")
        if "nbgrader" in cell.metadata:
            cell.metadata["nbgrader"] = nbgrader_metadata(cell.metadata["nbgrader"], where)
        cell.metadata = nbformat.from_dict(dict(sorted(cell.metadata.items())))
        cell["id"] = _cell_id(cell, seen)
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC)})
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def write_source(nb, path: Path | str) -> None:
    """Write a lesson notebook as a source (only the cell metadata a source carries)."""
    import jupytext

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in _CELL_KEYS}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata = {"jupytext": {"notebook_metadata_filter": "-all",
                                "cell_metadata_filter": ",".join(_CELL_KEYS)}}
    Path(path).write_text(jupytext.writes(nb, fmt=SOURCE_FORMAT), encoding="utf-8")


def build(source: Path | str, notebooks: Path | str | None = None, execute: bool = True,
          timeout: int = 600) -> Path:
    """Build the stored notebook of a lesson from its source and return its path.

    With ``execute`` (the default) a fresh kernel runs every cell in the notebooks' folder, as
    nbval does; a cell that raises (unless tagged ``raises-exception``) stops the build with its
    error, and nothing is written.
    """
    nb = read_source(source)
    target = notebook_for(source, notebooks)
    target.parent.mkdir(parents=True, exist_ok=True)
    if execute:
        from nbclient import NotebookClient

        import subprocess

        client = NotebookClient(nb, timeout=timeout, kernel_name=KERNELSPEC["name"],
                                record_timing=False,
                                resources={"metadata": {"path": str(target.parent)}})
        # the kernel's own log lines (its TCP warning) are noise here; errors come as messages
        client.execute(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nbformat.write(nb, str(target))
    return target


def _cells(nb) -> list[tuple]:
    return [(c.cell_type, c.source,
             {k: v for k, v in c.metadata.items() if k not in _RUN_ONLY_KEYS})
            for c in nb.cells]


def stale(source: Path | str, notebooks: Path | str | None = None) -> str | None:
    """Why the stored notebook of ``source`` is not what the source builds (its first difference
    in cells, sources or cell metadata; a missing notebook), or ``None`` when it is current."""
    source = Path(source)
    target = notebook_for(source, notebooks)
    if not target.is_file():
        return f"{target.name} is missing: build it with `python scripts/build_lessons.py {source.stem}`"
    want, have = _cells(read_source(source)), _cells(nbformat.read(str(target), as_version=4))
    fix = f"rebuild it: `python scripts/build_lessons.py {source.stem}`"
    for index, (a, b) in enumerate(zip(want, have)):
        if a != b:
            part = next(k for k in range(3) if a[k] != b[k])
            return (f"{target.name}: cell {index} differs from {source.name} in its "
                    f"{('type', 'source', 'metadata')[part]} (source: {str(a[part])[:100]!r}; "
                    f"notebook: {str(b[part])[:100]!r}); {fix}")
    if len(want) != len(have):
        return f"{target.name} has {len(have)} cells, {source.name} builds {len(want)}; {fix}"
    return None

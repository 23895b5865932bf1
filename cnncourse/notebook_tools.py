"""Lesson notebooks as exercises: nbgrader cell metadata, student versions, where lessons live.

A lesson notebook in ``notebooks/`` is the complete version, solutions included, marked up the
way nbgrader expects (cell metadata schema 3; ``### BEGIN SOLUTION`` / ``### END SOLUTION`` in
solution cells; ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` in test cells).
:func:`student_version` makes the learner's copy with the same transformation as
``nbgrader generate_assignment`` (configured with :mod:`cnncourse.nbgrader_config`): each
solution region becomes a stub that does not raise when its cell runs, so Run All goes on —

- a region inside a block (a function body) becomes, at the marker's indentation,
  ``raise NotImplementedError("exercise <id>: replace this line with your code")``: the
  function is defined, and raises only when called (the check then says "not done yet");
- a region at the left margin (a prediction, or any answer given as a value) becomes
  ``<id> = ...``: the Ellipsis is read as "not answered yet";

hidden test regions are dropped, and outputs are cleared.

Where the lessons are found (:func:`lessons_dir`), first match wins:

1. the ``CNNCOURSE_NOTEBOOKS`` environment variable (a folder);
2. ``notebooks/`` beside the package folder — a source checkout or an editable install
   (``pip install -e .``), the way the course is meant to be used;
3. ``cnncourse/lessons/`` inside the installed package, if the notebooks were shipped as
   package data (a wheel built with them copied there).
"""
from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "CODE_STUB",
    "VALUE_STUB",
    "solution_stub",
    "ExerciseCell",
    "lessons_dir",
    "lesson_paths",
    "exercise_cells",
    "exercise_id",
    "student_source",
    "student_version",
    "replace_regions",
    "read_notebook",
]

CODE_STUB = 'raise NotImplementedError("exercise {id}: replace this line with your code")'
VALUE_STUB = "{id} = ..."
BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
TEXT_STUB = "YOUR ANSWER HERE"
LESSON_PATTERN = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")


@dataclass(frozen=True)
class ExerciseCell:
    """An nbgrader cell of a lesson: ``role`` is ``"solution"`` or ``"test"``."""

    index: int
    grade_id: str
    role: str
    points: float
    source: str

    @property
    def exercise(self) -> str:
        """The exercise id (the test cell's ``grade_id``; a solution cell's without ``-solution``)."""
        return exercise_id(self.grade_id)


def exercise_id(grade_id: str) -> str:
    """``"conv2d-solution"`` → ``"conv2d"``; a test cell's grade_id is the exercise id itself."""
    return grade_id[: -len("-solution")] if grade_id.endswith("-solution") else grade_id


def lessons_dir() -> Path:
    """The folder holding the complete lesson notebooks (see the module docstring for the order)."""
    env = os.environ.get("CNNCOURSE_NOTEBOOKS")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "notebooks", package / "lessons"):
        if candidate.is_dir() and any(LESSON_PATTERN.match(p.name) for p in candidate.iterdir()):
            return candidate
    raise FileNotFoundError(
        f"no lesson notebooks found: looked in {package.parent / 'notebooks'} (a source checkout "
        f"installed with `pip install -e .`) and {package / 'lessons'}; set CNNCOURSE_NOTEBOOKS "
        f"to the folder that holds 01_*.ipynb, 02_*.ipynb, ..."
    )


def lesson_paths(folder: Path | str | None = None) -> list[Path]:
    """The lesson notebooks (``NN_name.ipynb``) of a folder, in lesson order."""
    folder = Path(folder) if folder is not None else lessons_dir()
    return sorted(p for p in folder.iterdir() if LESSON_PATTERN.match(p.name))


def read_notebook(path: Path | str) -> nbformat.NotebookNode:
    """Read a notebook as nbformat version 4."""
    return nbformat.read(str(path), as_version=4)


def exercise_cells(nb) -> list[ExerciseCell]:
    """The nbgrader solution and test cells of a notebook, in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade_id"):
            continue
        if meta.get("grade"):
            role = "test"
        elif meta.get("solution"):
            role = "solution"
        else:
            continue
        found.append(ExerciseCell(index, meta["grade_id"], role, float(meta.get("points", 0) or 0),
                                  cell.source))
    return found


def solution_stub(indent: str, exercise: str) -> list[str]:
    """The lines that replace a solution region of exercise ``exercise`` whose marker is
    indented by ``indent``: :data:`VALUE_STUB` at the left margin, :data:`CODE_STUB` inside a block."""
    return [indent + (CODE_STUB if indent else VALUE_STUB).format(id=exercise)]


def replace_regions(source: str, begin: str, end: str, stub=None) -> tuple[str, bool]:
    """nbgrader's rule: a line containing ``begin`` starts a region that ends at a line containing
    ``end``; the region (markers included) becomes ``stub(indent)`` (a list of lines, ``indent``
    being the begin line's), or nothing when ``stub`` is None. Returns the new source and
    whether a region was found."""
    lines, out, inside, found = source.split("\n"), [], False, False
    for line in lines:
        if begin in line:
            if inside:
                raise ValueError(f"nested {begin!r} regions in cell:\n{source}")
            inside = found = True
            out.extend(stub(re.match(r"\s*", line).group(0)) if stub else [])
        elif end in line:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{begin!r} without a matching {end!r} in cell:\n{source}")
    return "\n".join(out), found


def student_source(cell) -> str:
    """The learner's source of one cell (see the module docstring): solution regions of a
    solution cell become stubs (a solution cell without markers becomes a stub alone), hidden
    test regions of a test cell are dropped; other cells are returned as they are."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    source = cell.source
    if meta.get("solution"):
        exercise = exercise_id(meta.get("grade_id", ""))
        stub = ((lambda indent: solution_stub(indent, exercise)) if cell.cell_type == "code"
                else (lambda indent: [indent + TEXT_STUB]))
        source, found = replace_regions(source, BEGIN_SOLUTION, END_SOLUTION, stub)
        source = source if found else "\n".join(stub(""))
    if meta.get("grade"):
        source, _ = replace_regions(source, BEGIN_HIDDEN, END_HIDDEN)
    return source


def student_version(nb):
    """The learner's copy of a complete lesson notebook (the input is not modified).

    Every cell's source becomes :func:`student_source`; outputs and execution counts are
    cleared. As in nbgrader, a marker in a cell that is not a solution (or test) cell is an
    error: ``ValueError`` naming the cell.

    Example:
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        ...     "def f(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION",
        ...     metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "f-solution"}})])
        >>> print(student_version(nb).cells[0].source)
        def f(x):
            raise NotImplementedError("exercise f: replace this line with your code")
    """
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        for marker, flag, kind in ((BEGIN_SOLUTION, "solution", "solution"),
                                   (BEGIN_HIDDEN, "grade", "test (grade)")):
            if marker in cell.source and not meta.get(flag):
                raise ValueError(_misplaced(index, cell, marker, kind))
        cell.source = student_source(cell)
    nb.metadata.pop("widgets", None)
    return nb


def _misplaced(index: int, cell, marker: str, kind: str) -> str:
    return (
        f"cell {index} ({cell.cell_type}) contains {marker!r} but is not a {kind} cell: nbgrader "
        f"treats any line containing those words as a marker and refuses the notebook. In prose, "
        f"name the markers without writing them out (e.g. 'the BEGIN/END lines'). Cell starts: "
        f"{cell.source[:80]!r}"
    )

"""Reading the course's source notebooks and the learners' notebooks, and choosing what runs.

The *source* notebook (the course's own, in ``notebooks/``) is the only authority on which
exercises a lesson has and what each is worth: its nbgrader test cells (``grade: true``) give the
exercise ids and points. A *submission* is never trusted for that. From a submission the grader
runs only the learner's own cells:

- the solution cells (nbgrader ``solution: true``, matched to the source by ``grade_id``),
- cells the learner added or changed (code that appears in no source cell),

after the source notebook's setup cell (its first code cell: imports and seeds), trimmed to the
statements the learner's code can need (:func:`prune_setup`). Test cells, the course's unchanged
demonstration cells, markdown and raw cells are never run.
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "TestCell",
    "SourceNotebook",
    "LearnerCell",
    "SubmissionError",
    "load_source",
    "parse_submission",
    "learner_cells",
    "MAX_CELLS",
    "course_notebooks_dir",
    "prune_setup",
]

_HIDDEN = re.compile(r"###\s*BEGIN HIDDEN TESTS")
#: A submission with more cells than this is not graded (a lesson has about a hundred).
MAX_CELLS = 2000


class SubmissionError(ValueError):
    """A submitted notebook that cannot be read (its message is the reason shown to the learner)."""


@dataclass(frozen=True)
class TestCell:
    """One graded test cell of the source notebook: exercise id, points, has hidden tests."""

    grade_id: str
    points: float
    hidden: bool = False


@dataclass
class SourceNotebook:
    """What the grader takes from a course notebook."""

    lesson: str
    path: Path
    setup: str
    tests: list[TestCell]
    solution_ids: set[str]
    course_code: set[str] = field(default_factory=set)
    digest: str = ""


@dataclass(frozen=True)
class LearnerCell:
    """A cell of a submission that the grader runs: its position, code, and why it runs."""

    index: int
    source: str
    role: str  # "solution" or "added"
    grade_id: str | None = None


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata")
    grader = meta.get("nbgrader") if isinstance(meta, dict) else None
    return grader if isinstance(grader, dict) else {}


def _normal(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


def load_source(path: str | Path) -> SourceNotebook:
    """Read a course notebook: its setup cell, graded test cells and solution cell ids."""
    path = Path(path)
    data = path.read_bytes()
    nb = json.loads(data)
    code_cells = [c for c in nb["cells"] if c.get("cell_type") == "code"]
    tests, solutions = [], set()
    for cell in code_cells:
        meta = _nbgrader(cell)
        if meta.get("grade") and not meta.get("solution") and meta.get("grade_id"):
            tests.append(TestCell(str(meta["grade_id"]), float(meta.get("points", 0) or 0),
                                  bool(_HIDDEN.search(_source(cell)))))
        if meta.get("solution") and meta.get("grade_id"):
            solutions.add(str(meta["grade_id"]))
    setup = _source(code_cells[0]) if code_cells and not _nbgrader(code_cells[0]) else ""
    return SourceNotebook(
        lesson=path.stem, path=path, setup=setup, tests=tests, solution_ids=solutions,
        course_code={_normal(_source(c)) for c in code_cells if not _nbgrader(c).get("solution")},
        digest=hashlib.sha256(data).hexdigest()[:16],
    )


def parse_submission(data: bytes | None) -> dict:
    """Check that ``data`` is a version-4 notebook; return it as a dict.

    Raises:
        SubmissionError: with a reason a learner can act on (missing, not JSON, not a notebook).
    """
    if data is None:
        raise SubmissionError("no notebook submitted")
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SubmissionError(f"the notebook is not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError("the file is JSON but not a Jupyter notebook (no list of cells)")
    if not isinstance(nb.get("nbformat"), int) or nb["nbformat"] < 4:
        raise SubmissionError("the notebook is not in format version 4; save it with Jupyter 4+")
    if not all(isinstance(c, dict) for c in nb["cells"]):
        raise SubmissionError("the notebook has malformed cells")
    if len(nb["cells"]) > MAX_CELLS:
        raise SubmissionError(f"the notebook has {len(nb['cells'])} cells; the grader reads "
                              f"notebooks of at most {MAX_CELLS} (a lesson has about a hundred)")
    return nb


def learner_cells(source: SourceNotebook, nb: dict) -> list[LearnerCell]:
    """The submission's cells to run, in order: its solution cells and the code the learner added.

    Test cells (by ``grade_id`` or nbgrader ``grade: true``) never run: their checks are done by
    the grader. Code identical to a course cell (demonstrations) is skipped too.
    """
    test_ids = {t.grade_id for t in source.tests}
    chosen = []
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        code, meta = _source(cell), _nbgrader(cell)
        grade_id = meta.get("grade_id") if isinstance(meta.get("grade_id"), str) else None
        if grade_id in test_ids or (meta.get("grade") and not meta.get("solution")):
            continue
        if grade_id in source.solution_ids and meta.get("solution"):
            chosen.append(LearnerCell(index, code, "solution", grade_id))
        elif code.strip() and _normal(code) not in source.course_code:
            chosen.append(LearnerCell(index, code, "added", grade_id))
    return chosen


def course_notebooks_dir() -> Path:
    """The course's source notebooks (:func:`cnncourse.notebook_tools.lessons_dir`).

    Raises:
        ValueError: when no lesson folder can be found (the message says where it looked).
    """
    from ..notebook_tools import lessons_dir

    try:
        return lessons_dir()
    except FileNotFoundError as exc:
        raise ValueError(f"{exc}; or pass --source") from None


def _magic_free(code: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())


def _loaded(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def prune_setup(setup: str, learner_code: list[str]) -> str:
    """The statements of the setup cell that the learner's code can need.

    Importing PyTorch and matplotlib for every submission costs seconds; a learner whose cells
    only use ``np`` needs only ``import numpy as np``. Keeps every statement that binds a name the
    learner's code reads (and, transitively, what those statements read), plus statements that
    bind nothing (``np.random.seed(0)``) when all the names they read are kept; magics (``%...``)
    are kept only when matplotlib is. Code that cannot be parsed is kept whole.
    """
    try:
        tree = ast.parse(_magic_free(setup))
        needed = set()
        for code in learner_code:
            try:
                needed |= _loaded(ast.parse(_magic_free(code)))
            except SyntaxError:
                return setup
    except SyntaxError:
        return setup
    statements = tree.body
    changed = True
    while changed:
        changed = False
        for node in statements:
            if _bound(node) & needed and not _loaded(node) <= needed:
                needed |= _loaded(node)
                changed = True
    kept_names = set(dir(builtins))
    kept = []
    for node in statements:
        bound = _bound(node)
        if (bound & needed) or (not bound and _loaded(node) <= kept_names):
            kept.append(node)
            kept_names |= bound
    text = _magic_free(setup)
    lines = [ast.get_source_segment(text, node) for node in kept]
    if "plt" in kept_names or "matplotlib" in kept_names:
        lines = [line for line in setup.splitlines() if line.lstrip().startswith("%")] + lines
    return "\n".join(line for line in lines if line)


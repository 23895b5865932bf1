"""``cnncourse progress``: run every lesson of a workspace and report each exercise.

Each lesson runs in its own kernel (nbclient: a timeout per cell, errors allowed, so that one
broken exercise does not stop the rest). The result of a test cell is read from the verdict its
check shows *as data* (:data:`~cnncourse.checks.feedback.VERDICT_MIME`), never parsed from
printed text; a test cell that raised instead (its function is not defined, an endless loop was
interrupted...) is explained from its error. Each exercise is ``passed``, ``failed`` or
``not done``; :func:`format_table` fits the terminal, wrapping messages instead of cutting them,
and :func:`format_details` gives every message whole.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from .checks.feedback import VERDICT_MIME
from .notebook_tools import exercise_cells, lesson_paths, lessons_dir, read_notebook

__all__ = ["STATUSES", "ExerciseResult", "run_notebook", "results_of", "progress", "format_table",
           "format_details"]

STATUSES = ("passed", "failed", "not done")


@dataclass
class ExerciseResult:
    """The result of one exercise of a workspace lesson.

    ``summary`` is what the table shows (the diagnosis and what to do, without the failing
    case); ``message`` is the whole feedback, the failing case included.
    """

    lesson: str
    exercise: str
    status: str
    summary: str
    message: str
    points: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def run_notebook(path: Path | str, timeout: int = 120, kernel_name: str = "python3",
                 on_cell=None):
    """Execute a notebook in a fresh kernel (its folder as working directory), errors allowed.

    Checks in the kernel show their verdicts and never raise (``CNNCOURSE_RAISE_ON_FAIL=0``,
    whatever the learner's shell sets), so every verdict arrives as data.

    Args:
        path: the notebook.
        timeout: seconds allowed per cell; a cell that takes longer is interrupted.
        kernel_name: the Jupyter kernel to run it in.
        on_cell: optional callback, called after each code cell.

    Returns:
        The executed notebook (the file itself is not changed).
    """
    from nbclient import NotebookClient

    nb = read_notebook(path)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
        interrupt_on_timeout=True,  # a cell that loops is stopped and the later cells still run
        resources={"metadata": {"path": str(Path(path).resolve().parent)}},
        on_cell_executed=(lambda **_: on_cell()) if on_cell else None,
    )
    env = dict(os.environ, CNNCOURSE_RAISE_ON_FAIL="0")
    try:  # the kernel's own log lines (e.g. its TCP warning) would clutter the learner's terminal
        client.execute(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    except Exception as exc:  # kernel died, timeout of the whole run...: report, keep the cells run
        first = str(exc).splitlines()[0] if str(exc) else ""
        nb.metadata["cnncourse_error"] = f"{type(exc).__name__}: {first}"
    return nb


def _first_lines(text: str, n: int = 2) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:n])


def _solution_error(nb, exercise: str) -> str | None:
    """``"Name: message"`` of the first error raised by a solution cell of ``exercise``."""
    for cell in exercise_cells(nb):
        if cell.role != "solution" or cell.exercise != exercise:
            continue
        for o in nb.cells[cell.index].get("outputs", []):
            if o.get("output_type") == "error":
                return f"{o.get('ename', 'Error')}: {_first_lines(o.get('evalue', ''), 1)}"
    return None


def _without_id(line: str, exercise: str) -> str:
    for mark in ("✓", "✗", "○"):
        line = line.removeprefix(f"{mark} {exercise}: ")
    return line


def _from_verdict(lesson: str, exercise: str, points: float, data: dict) -> ExerciseResult:
    message = data.get("message", "")
    if data.get("mistake"):  # a diagnosis: its headline, mistake and advice, without the case
        summary = (f"{_without_id(data.get('headline', ''), exercise)} Likely mistake: "
                   f"{data['mistake']} What to look at: {data.get('advice', '')}")
    else:  # a one-line verdict, or a prediction's answer: the message itself
        summary = " ".join(_without_id(message, exercise).split())
    status = data.get("status") if data.get("status") in STATUSES else "failed"
    return ExerciseResult(lesson, exercise, status, summary.strip(), message, points)


def _from_error(nb, lesson: str, exercise: str, points: float, error) -> ExerciseResult:
    name, value = error.get("ename", "Error"), error.get("evalue", "")
    status, message = "failed", f"{name}: {_first_lines(value, 1)}"
    if name in ("CheckFailed", "AssertionError") and value.strip():
        # a check asked to raise (raise_on_fail): its message is the verdict's
        message = value.strip()
        status = "not done" if value.lstrip().startswith("○") else "failed"
        summary = _without_id(_first_lines(value, 1), exercise)
        return ExerciseResult(lesson, exercise, status, summary, message, points)
    if name == "KeyboardInterrupt":
        message = ("stopped: it ran longer than the time allowed per cell (--timeout) — an endless "
                   "loop, or a very slow function?")
    elif name == "NameError":
        failed_above = _solution_error(nb, exercise)
        message = (f"the cell that defines it failed: {failed_above}" if failed_above else
                   f"it is not defined: was the cell that defines it deleted, or the name changed? ({value})")
    return ExerciseResult(lesson, exercise, status, message, message, points)


def results_of(nb, lesson: str) -> list[ExerciseResult]:
    """The result of each test cell of an executed notebook, read from the verdicts it shows."""
    results = []
    for cell in exercise_cells(nb):
        if cell.role != "test":
            continue
        outputs = nb.cells[cell.index].get("outputs", [])
        errors = [o for o in outputs if o.get("output_type") == "error"]
        verdicts = [o["data"][VERDICT_MIME] for o in outputs
                    if VERDICT_MIME in (o.get("data") or {})]
        if errors:
            results.append(_from_error(nb, lesson, cell.exercise, cell.points, errors[0]))
        elif verdicts:
            # a test cell may hold several checks (visible, then hidden tests): the first that
            # does not pass decides
            data = next((v for v in verdicts if v.get("status") != "passed"), verdicts[-1])
            results.append(_from_verdict(lesson, cell.exercise, cell.points, data))
        else:
            ran = nb.cells[cell.index].get("execution_count") is not None
            reason = nb.metadata.get("cnncourse_error", "the notebook stopped before this cell")
            message = (f"not run: {reason}" if not ran else
                       "its check showed no verdict: copy the test cell back from the course's "
                       "version of the lesson")
            results.append(ExerciseResult(lesson, cell.exercise, "failed", message, message,
                                          cell.points))
    return results


def _missing_tests(source: Path | None, path: Path, found: list[ExerciseResult],
                   message: str = "test cell missing from your notebook (deleted?): copy it back "
                                  "from the course's version") -> list[ExerciseResult]:
    """A failed row for each test cell of the course's version of this lesson that the
    learner's copy no longer has (deleted, or its metadata lost), so that nothing goes unseen."""
    if source is None or not (source / path.name).is_file():
        return []
    seen = {r.exercise for r in found}
    return [ExerciseResult(path.stem, cell.exercise, "failed", message, message, cell.points)
            for cell in exercise_cells(read_notebook(source / path.name))
            if cell.role == "test" and cell.exercise not in seen]


def lesson_of(directory: Path | str, exercise: str) -> Path | None:
    """The workspace lesson whose test cells include ``exercise`` (``None`` if none does)."""
    for path in lesson_paths(Path(directory)):
        try:
            if any(c.role == "test" and c.exercise == exercise for c in exercise_cells(read_notebook(path))):
                return path
        except Exception:  # an unreadable notebook: progress reports it
            continue
    return None


def progress(directory: Path | str, timeout: int = 120, show_progress: bool = True,
             kernel_name: str = "python3", source: Path | str | None = None,
             only: list[Path] | None = None) -> list[ExerciseResult]:
    """Run every lesson of a workspace (or only the lessons ``only``) and return the result of
    each exercise.

    Only the lessons themselves (``NN_name.ipynb``) are run, not the ``.new-…`` copies. A test
    cell that the course's version of a lesson has (``source``, default: the course's lessons)
    but the learner's copy lacks is reported as failed.
    """
    from tqdm.auto import tqdm

    workspace = Path(directory)
    if not workspace.is_dir():
        raise FileNotFoundError(f"no workspace at {workspace}: run "
                                f"`cnncourse start {shlex.quote(str(workspace))}` first")
    try:
        course = Path(source) if source is not None else lessons_dir()
    except FileNotFoundError:  # an installed copy without the lessons: nothing to compare with
        course = None
    results = []
    for path in (only if only is not None else lesson_paths(workspace)):
        try:
            n_code = sum(c.cell_type == "code" for c in read_notebook(path).cells)
        except Exception as exc:  # not JSON, not a notebook, unreadable: report it, go on
            reason = (f"cannot read {path.name} ({type(exc).__name__}): rename it and run "
                      f"`cnncourse start` for a fresh copy")
            results.extend(_missing_tests(course, path, [], reason)
                           or [ExerciseResult(path.stem, "-", "failed", reason, reason, 0.0)])
            continue
        with tqdm(total=n_code, desc=path.stem, unit="cell", leave=False,
                  disable=not show_progress, file=sys.stderr) as bar:
            nb = run_notebook(path, timeout=timeout, kernel_name=kernel_name,
                              on_cell=lambda: bar.update(1))
        found = results_of(nb, path.stem)
        results.extend(found + _missing_tests(course, path, found))
    return results


def terminal_width() -> int:
    """The terminal's width in columns (100 when it cannot be told, e.g. output to a file)."""
    return shutil.get_terminal_size((100, 24)).columns


def format_table(results: list[ExerciseResult], width: int | None = None) -> str:
    """One block per lesson — exercise, status, message — then the totals; at most ``width``
    columns (default: the terminal's), messages wrapped, never cut."""
    width = width or terminal_width()
    ex_w = max([len("exercise")] + [len(r.exercise) for r in results])
    st_w = max(len(s) for s in STATUSES)
    left = 2 + ex_w + 2 + st_w + 2
    msg_w = max(24, width - left)
    lines = ["  " + "exercise".ljust(ex_w) + "  " + "status".ljust(st_w) + "  message"]
    for lesson, group in groupby(results, key=lambda r: r.lesson):
        group = list(group)
        lines += ["", f"{lesson}: {sum(r.passed for r in group)} of {len(group)} passed"]
        for r in group:
            wrapped = textwrap.wrap(r.summary, msg_w, break_long_words=True,
                                    break_on_hyphens=False) or [""]
            lines.append("  " + r.exercise.ljust(ex_w) + "  " + r.status.ljust(st_w) + "  " + wrapped[0])
            lines += [" " * left + more for more in wrapped[1:]]
    done = sum(r.points for r in results if r.passed)
    total = sum(r.points for r in results)
    counts = ", ".join(f"{sum(r.status == s for r in results)} {s}" for s in STATUSES)
    lines += ["", *textwrap.wrap(f"{sum(r.passed for r in results)} of {len(results)} exercises "
                                 f"passed ({counts}), {done:g} of {total:g} points.", width)]
    return "\n".join(lines)


def format_details(results: list[ExerciseResult], width: int | None = None) -> str:
    """Every result's whole message (the failing case included), one titled block each."""
    width = width or terminal_width()
    blocks = []
    for r in results:
        title = f"── {r.lesson} / {r.exercise}: {r.status} "
        blocks.append(title + "─" * max(3, min(width, 92) - len(title)) + "\n" + r.message)
    return "\n\n".join(blocks)

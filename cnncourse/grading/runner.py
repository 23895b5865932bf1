"""Grading one submission (one learner's notebook of one lesson) into gradebook rows.

Order of events in the learner's kernel: the bootstrap (:mod:`kernel_harness`, before any learner
code), the course's setup cell, the learner's own cells (errors allowed, each with a timeout),
then one short cell per exercise that calls the learner's function on the check's cases and
writes the outcomes to a file. The grader reads that file (:mod:`transport`) and judges it here
with ``exercise.diagnose``. A kernel that dies or hangs is restarted (the learner's cells are run
again, without the one that killed it) so that the other exercises are still graded.
"""
from __future__ import annotations

import ast
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.core import Case, Exercise, Verdict, get_exercise
from . import kernel_harness
from .gradebook import Row
from .integrity import find_flags
from .notebooks import (LearnerCell, SourceNotebook, SubmissionError, TestCell, learner_cells,
                        parse_submission, prune_setup)
from .session import KernelSession, Limits, copy_submission
from .transport import ResultsError, encode_cases, read_results

__all__ = ["Job", "PreparedExercise", "LessonPlan", "prepare_lesson", "grade_submission"]

_MAX_RESTARTS = 3
# CPython 3.11's ast module is not thread-safe ("AST constructor recursion depth mismatch"):
# the static analysis of submissions runs one thread at a time.
_AST_LOCK = threading.Lock()


@dataclass
class Job:
    """One learner's notebook of one lesson: its bytes as snapshotted before grading began."""

    student: str
    lesson: str
    notebook: bytes | None
    folder: Path | None = None


@dataclass
class PreparedExercise:
    """An exercise of a lesson, with its cases computed once per grading run."""

    test: TestCell
    exercise: Exercise | None
    error: str | None = None
    cases: list[Case] = field(default_factory=list)
    n_visible: int = 0
    payload: bytes = b""


@dataclass
class LessonPlan:
    """What grading a lesson needs: its source notebook and its prepared exercises."""

    source: SourceNotebook
    exercises: list[PreparedExercise]


def prepare_lesson(source: SourceNotebook) -> LessonPlan:
    """Look up each test cell's exercise and compute its cases (visible, then hidden if any)."""
    prepared = []
    for test in source.tests:
        try:
            exercise = get_exercise(test.grade_id)
        except ValueError as exc:
            prepared.append(PreparedExercise(test, None, f"no check is registered for test cell "
                                                        f"{test.grade_id!r} ({exc})"))
            continue
        cases = exercise.cases()
        n_visible = len(cases)
        if test.hidden:
            cases = cases + exercise.cases(hidden=True)
        prepared.append(PreparedExercise(test, exercise, None, cases, n_visible, encode_cases(cases)))
    return LessonPlan(source, prepared)


def _bootstrap_code(module_name: str) -> str:
    harness = Path(kernel_harness.__file__).read_text(encoding="utf-8")
    return (
        "def _cnncourse_bootstrap(source, name, namespace):\n"
        "    import builtins\n"
        "    g = {'__builtins__': dict(vars(builtins)), '__name__': name}\n"
        "    exec(compile(source, '<cnncourse grader>', 'exec'), g)\n"
        "    g['_install'](name, namespace)\n"
        f"_cnncourse_bootstrap({harness!r}, {module_name!r}, get_ipython().user_ns)\n"
        "del _cnncourse_bootstrap\n"
    )


def _defines(code: str, name: str) -> bool:
    try:
        tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                   for line in code.splitlines()))
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                for t in node.targets):
            return True
    return False


def _solution_cells(plan: LessonPlan, cells: list[LearnerCell]) -> dict[str, int]:
    """Exercise id -> index of the cell that (last) defines the learner's function or answer."""
    found = {}
    for prep in plan.exercises:
        if prep.exercise is None:
            continue
        for cell in cells:
            if cell.grade_id == f"{prep.test.grade_id}-solution" or _defines(cell.source, prep.exercise.function):
                found[prep.test.grade_id] = cell.index
    return found


def _row(job: Job, prep: PreparedExercise, status: str, message: str, earned: bool = False) -> Row:
    points = prep.test.points
    return Row(job.student, job.lesson, prep.test.grade_id, points if earned else 0.0, points,
               status, message)


def _judge(prep: PreparedExercise, results) -> Verdict:
    visible = prep.exercise.diagnose(prep.cases[:prep.n_visible], results.outcomes[:prep.n_visible])
    if not visible.passed or prep.n_visible == len(prep.cases):
        return visible
    hidden = prep.exercise.diagnose(prep.cases[prep.n_visible:], results.outcomes[prep.n_visible:])
    if hidden.passed:
        extra = len(prep.cases) - prep.n_visible
        return Verdict(True, len(prep.cases), f"{visible.message} (and {extra} hidden cases)", None)
    return Verdict(False, len(prep.cases), "(hidden tests)\n" + hidden.message, hidden.diagnosis)


class _Grading:
    """State of grading one submission: its kernel, the cells to run, the notes for feedback."""

    def __init__(self, job: Job, plan: LessonPlan, limits: Limits, cells: list[LearnerCell],
                 setup: str, tmp: Path, mpl_dir: Path | None):
        self.job, self.plan, self.limits, self.cells, self.setup = job, plan, limits, cells, setup
        self.io = tmp / "io"
        self.io.mkdir()
        work = tmp / "work"
        copy_submission(job.folder, job.notebook, f"{job.lesson}.ipynb", work)
        self.session = KernelSession(work, tmp / "private", limits, mpl_dir)
        self.module = f"_cnncourse_grader_{os.urandom(8).hex()}"
        self.skip: set[int] = set()
        self.notes: list[str] = []
        self.deadline = time.monotonic() + limits.notebook_timeout
        self.restarts = 0
        self.ready = False
        self.fatal: str | None = None

    def start(self) -> str | None:
        """(Re)start the kernel and run bootstrap, setup and learner cells; an error means the
        grader itself could not prepare the kernel."""
        while True:
            try:
                self.session.start()
            except Exception as exc:
                return f"the grading kernel did not start ({type(exc).__name__}: {exc})"
            for what, code in (("the grader's bootstrap", _bootstrap_code(self.module)),
                               ("the course's setup cell", self.setup)):
                result = self.session.run(code, max(self.limits.cell_timeout, 120))
                if result.status != "ok":
                    return f"{what} failed in the grading kernel: {result.status} {result.error or ''}"
            restart = False
            for cell in self.cells:
                if cell.index in self.skip:
                    continue
                left = self.deadline - time.monotonic()
                if left <= 1:
                    self._note(f"the notebook's time limit ({self.limits.notebook_timeout:.0f} s) ran out"
                               f" before cell {cell.index}; later cells were not run")
                    break
                result = self.session.run(cell.source, min(self.limits.cell_timeout, left))
                if result.status == "error":
                    self._note(f"cell {cell.index} raised {result.error}")
                elif result.status == "timeout":
                    self._note(f"cell {cell.index} was stopped: it ran longer than the time limit")
                elif result.status in ("dead", "hung"):
                    self.skip.add(cell.index)
                    self._note(f"cell {cell.index} {self._death(result)}; it was skipped")
                    restart = True
                    break
            if not restart:
                self.ready = True
                return None
            self.restarts += 1
            if self.restarts > _MAX_RESTARTS:
                return "the kernel kept dying while running the notebook"

    def _death(self, result) -> str:
        if result.status == "hung":
            return "did not stop when interrupted and the kernel was killed"
        return (f"killed the kernel (os._exit, a crash, or more memory than the "
                f"{self.limits.memory_mb} MB limit)")

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def exercise(self, prep: PreparedExercise) -> Row:
        """Call the learner's function on the exercise's cases in the kernel and judge the outcomes."""
        job, ex = self.job, prep.exercise
        if not self.ready and self.fatal is None:
            self.fatal = self.start()
        if self.fatal is not None:
            return _row(job, prep, "crashed" if "dying" in self.fatal else "error", self.fatal)
        cases_path = self.io / f"{prep.test.grade_id}.cases"
        result_path = self.io / f"{prep.test.grade_id}.results"
        cases_path.write_bytes(prep.payload)
        request = json.dumps({"kind": ex.kind, "name": ex.function, "cases": str(cases_path),
                              "result": str(result_path)})
        code = f"__import__('sys').modules[{self.module!r}].run({request!r})"
        cell = self.session.run(code, self.limits.cell_timeout)
        try:
            results = read_results(result_path, prep.cases)
        except ResultsError as exc:
            return _row(job, prep, "error", f"the grader could not read the results of {ex.function}: {exc}")
        where = ""
        if results.running is not None:
            where = f" on case {prep.cases[results.running].label!r}"
        if cell.status in ("dead", "hung"):
            self.ready = False
            self.restarts += 1
            if cell.status == "hung":
                return _row(job, prep, "timeout", f"{ex.function} did not return within "
                            f"{self.limits.cell_timeout:.0f} s{where} and could not be interrupted")
            return _row(job, prep, "crashed", f"the kernel died while running {ex.function}{where} "
                        f"(os._exit, a crash, or more memory than the {self.limits.memory_mb} MB limit)")
        if cell.status == "timeout" or results.interrupted:
            return _row(job, prep, "timeout", f"{ex.function} did not return within "
                        f"{self.limits.cell_timeout:.0f} s{where} (an infinite loop?)")
        if results.missing or results.not_callable:
            what = (f"`{ex.function}` is not defined" if results.missing else
                    f"`{ex.function}` is a {results.not_callable}, not a function")
            return _row(job, prep, "failed", f"{ex.id}: {what} when the notebook has run: was its "
                        f"cell deleted or renamed, or did it raise an error?")
        if not results.done and "File too large" in (cell.error or ""):  # RLIMIT_FSIZE
            return _row(job, prep, "failed", f"{ex.id}: {ex.function} returned an output too large "
                        f"to check{where} (over the grader's file size limit): the cases are small "
                        f"(see `check({ex.id!r}, {ex.function})` in your notebook); compare the "
                        f"shape of your output with the expected one")
        if not results.done:
            return _row(job, prep, "error", f"the grader's call of {ex.function} did not complete"
                        f"{where}: {cell.error or 'no results'} (does the notebook change how "
                        f"IPython runs cells?)")
        verdict = _judge(prep, results)
        return _row(job, prep, "passed" if verdict.passed else "failed", verdict.message, verdict.passed)


def _with_notes(row: Row, notes: list[str]) -> Row:
    if row.status != "passed" and notes:
        row.message += "\n\nWhile running your notebook:\n" + "\n".join(f"- {n}" for n in notes)
        if any("NameError" in n for n in notes):
            row.message += ("\n(The grader runs only the setup cell and your own cells: a solution "
                            "must not use variables made in the lesson's demonstration cells.)")
    return row


def grade_submission(job: Job, plan: LessonPlan, limits: Limits = Limits(),
                     allow_reference: bool = False, mpl_dir: Path | None = None) -> list[Row]:
    """Grade one notebook; always returns one row per exercise of the lesson, whatever happens."""
    try:
        nb = parse_submission(job.notebook)
    except SubmissionError as exc:
        status = "missing" if job.notebook is None else "invalid"
        return [_row(job, p, status, str(exc)) for p in plan.exercises]
    with _AST_LOCK:
        cells = learner_cells(plan.source, nb)
        solutions = _solution_cells(plan, cells)
        flags = find_flags([(c.index, c.source) for c in cells], solutions, [plan.source.setup])
        setup = prune_setup(plan.source.setup, [c.source for c in cells])
    rows = []
    with tempfile.TemporaryDirectory(prefix="cnncourse-grade-") as tmp:
        grading = _Grading(job, plan, limits, cells, setup, Path(tmp), mpl_dir)
        try:
            for prep in plan.exercises:
                if prep.exercise is None:
                    rows.append(_row(job, prep, "error", prep.error))
                    continue
                if grading.restarts > _MAX_RESTARTS:
                    rows.append(_row(job, prep, "crashed", "not graded: the kernel kept dying"))
                    continue
                row = _with_notes(grading.exercise(prep), grading.notes)
                if prep.test.grade_id in flags:
                    found = "; ".join(f.describe() for f in flags[prep.test.grade_id])
                    row.message = (f"FLAGGED: the solution calls code it is meant to implement: "
                                   f"{found}.\n\n{row.message}")
                    if not allow_reference:
                        row.points, row.status = 0.0, "flagged"
                rows.append(row)
        finally:
            grading.session.stop()
    return rows

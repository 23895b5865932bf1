"""Grading one submission (one learner's notebook of one lesson) into gradebook rows.

First the static pass (:mod:`analysis`, in a capped child process): is it a notebook, which cells
are the learner's, what the integrity check finds. Then, in the learner's kernel: the bootstrap
(:mod:`kernel_harness`, before any learner code), the course's setup cell, the learner's own
cells (errors allowed, each with a timeout), then one short cell per exercise that calls the
learner's function on the check's cases and writes the outcomes to a file. The grader reads
that file (:mod:`transport`) and judges it here with ``exercise.diagnose``. A kernel that dies or
hangs is restarted (the learner's cells are run again, without the one that killed it) so that
the other exercises are still graded.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import Case, Exercise, Verdict, get_exercise
from .analysis import Analysis, analyse_submission
from .gradebook import Row
from .kernel_harness import bootstrap_code
from .notebooks import SourceNotebook, SubmissionError, TestCell
from .sandbox import Sandbox
from .session import KernelSession, Limits
from .submissions import Submission, copy_folder
from .transport import ResultsError, encode_cases, read_results

__all__ = ["Job", "Context", "Cancelled", "PreparedExercise", "LessonPlan", "prepare_lesson", "grade_submission"]

_MAX_RESTARTS = 3


@dataclass
class Job:
    """One learner's notebook of one lesson, as read before grading began."""

    student: str
    lesson: str
    submission: Submission

    @property
    def notebook(self) -> bytes | None:
        return self.submission.data


@dataclass
class Context:
    """What every submission of a run is graded with."""

    limits: Limits = field(default_factory=Limits)
    sandbox: Sandbox | None = None
    allow_reference: bool = False
    prefixes: tuple[str, ...] = ()
    fonts: dict[str, bytes] = field(default_factory=dict)
    tmp_root: Path | None = None
    live: set = field(default_factory=set)  # the kernels running now
    cancelled: threading.Event = field(default_factory=threading.Event)


class Cancelled(Exception):
    """The run was interrupted: this submission is not graded (it will be, next run)."""


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

    @property
    def functions(self) -> dict[str, tuple[str, str]]:
        """Exercise id -> (the name the learner defines, its kind), for the static analysis."""
        return {p.test.grade_id: (p.exercise.function, p.exercise.kind)
                for p in self.exercises if p.exercise is not None}


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

    def __init__(self, job: Job, context: Context, analysis: Analysis, tmp: Path):
        self.job, self.limits = job, context.limits
        self.cells, self.setup = analysis.cells, analysis.setup
        work = tmp / "w"
        path = job.submission.path
        copy_folder(path.parent if path is not None else None, work)
        (work / f"{job.lesson}.ipynb").write_bytes(job.notebook)
        self.session = KernelSession(work, tmp / "p", context.limits, context.sandbox,
                                     analysis.preload, context.fonts)
        self.io = self.session.io
        self.cancelled = context.cancelled
        self.module = f"_cnncourse_grader_{os.urandom(8).hex()}"
        self.skip: set[int] = set()
        self.notes: list[str] = []
        self.deadline = time.monotonic() + self.limits.notebook_timeout
        self.restarts = 0
        self.ready = False
        self.fatal: str | None = None
        self.written: list[str] = []

    def start(self) -> str | None:
        """(Re)start the kernel and run bootstrap, setup and learner cells; an error means the
        grader itself could not prepare the kernel."""
        while True:
            if self.cancelled.is_set():
                raise Cancelled()
            try:
                self.session.start()
            except Exception as exc:
                return f"the grading kernel did not start ({type(exc).__name__}: {exc})"
            for what, code in (("the grader's bootstrap", bootstrap_code(self.module)),
                               ("the course's setup cell", self.setup)):
                result = self.session.run(code, max(self.limits.cell_timeout, 120))
                if result.status != "ok":
                    return f"{what} failed in the grading kernel: {result.status} {result.error or ''}"
            restart = False
            for cell in self.cells:
                if self.cancelled.is_set():
                    raise Cancelled()
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
        cases_path = self.io / f"cases-{len(self.written)}"
        result_path = self.io / f"results-{len(self.written)}"
        self.written.append(prep.test.grade_id)
        try:
            _write_new(cases_path, prep.payload)
        except OSError as exc:  # the kernel's folder is the kernel's: it may have been tampered with
            return _row(job, prep, "error", f"the grader could not pass the cases of {ex.function} "
                        f"to the kernel ({exc.strerror}); does the notebook change its own folder?")
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
        if results.too_large or (not results.done and "File too large" in (cell.error or "")):
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


def _write_new(path: Path, data: bytes) -> None:
    """Write a new file in a folder the kernel can write to: never through a link it planted."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _integrity(row: Row, prep: PreparedExercise, analysis: Analysis, allow_reference: bool) -> Row:
    flags = analysis.flags.get(prep.test.grade_id)
    reviews = analysis.reviews.get(prep.test.grade_id)
    if flags:
        found = "; ".join(f.describe() for f in flags)
        row.message = (f"FLAGGED: the solution is not the learner's own code: {prep.exercise.function} "
                       f"{found}.\n\n{row.message}")
        if not allow_reference:
            row.points, row.status = 0.0, "flagged"
    elif reviews:
        found = "; ".join(f.describe() for f in reviews)
        row.message = (f"REVIEW: the static check cannot vouch for this solution: {found}. A person "
                       f"should look at it (the points are kept).\n\n{row.message}")
        if row.status == "passed":
            row.status = "review"
    return row


def grade_submission(job: Job, plan: LessonPlan, context: Context = Context()) -> list[Row]:
    """Grade one notebook; always returns one row per exercise of the lesson, whatever happens."""
    sub = job.submission
    if sub.data is None:
        status = "missing" if sub.problem == "no notebook submitted" else "invalid"
        return [_row(job, p, status, sub.problem or "no notebook submitted") for p in plan.exercises]
    limits = context.limits
    try:
        analysis = analyse_submission(sub.data, plan.source, plan.functions, context.prefixes,
                                      limits.analysis_timeout, limits.analysis_memory_mb)
    except SubmissionError as exc:
        return [_row(job, p, "invalid", str(exc)) for p in plan.exercises]
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="s", dir=context.tmp_root))
    try:
        grading = _Grading(job, context, analysis, tmp)
        context.live.add(grading.session)
        try:
            for prep in plan.exercises:
                if context.cancelled.is_set():
                    raise Cancelled()
                if prep.exercise is None:
                    rows.append(_row(job, prep, "error", prep.error))
                    continue
                if grading.restarts > _MAX_RESTARTS:
                    rows.append(_row(job, prep, "crashed", "not graded: the kernel kept dying"))
                    continue
                row = _with_notes(grading.exercise(prep), grading.notes)
                rows.append(_integrity(row, prep, analysis, context.allow_reference))
        finally:
            context.live.discard(grading.session)
            grading.session.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows

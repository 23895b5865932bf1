"""Grading a whole class: find the submissions, grade N at once, journal each, write the gradebook.

Before any learner code runs, every submitted notebook is read into the grader's memory
(:mod:`submissions`); each (student, lesson) is then graded in a worker thread that owns one
learner kernel, sandboxed (:mod:`sandbox`) unless ``sandbox=False``; its rows are appended to
the authenticated journal the moment they are made. At the end (also after Ctrl-C or SIGTERM)
``gradebook.csv`` and every feedback file are written from the grader's memory, atomically, and
the run's temporary folder (every kernel's working folder) is removed. With ``shard=(K, N)``
only the K-th of N shares of the students is read and graded (:mod:`shards`); every run writes
the manifest that ``cnncourse grade merge`` checks.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm.auto import tqdm

from .forbidden import forbidden_prefixes
from .gradebook import Journal, Row, write_outputs
from .notebooks import course_notebooks_dir, load_source
from .runner import Context, Job, LessonPlan, grade_submission, prepare_lesson
from .sandbox import Sandbox
from .session import Limits
from .shards import check_output_folder, select, write_manifest
from .submissions import MAX_NOTEBOOK_BYTES, find_submissions, roster, student_name

__all__ = ["grade", "Graded", "MAX_NOTEBOOK_BYTES", "NO_SANDBOX_WARNING"]

NO_SANDBOX_WARNING = (
    "WARNING: --no-sandbox: learner code runs unsandboxed, as your user, with your network, your "
    "files, the other submissions, the course's solutions and this run's output folder within "
    "its reach. Use it only for submissions you trust, or inside a container or VM that is the "
    "sandbox (see the README).")


class Graded(list):
    """The rows of a run (a list of :class:`Row`), plus what the summary reports: ``notes``
    (``(student, lesson) -> [text]``), ``warnings`` and ``students`` (everyone in the run)."""

    def __init__(self, rows=(), notes=None, warnings=(), students=()):
        super().__init__(rows)
        self.notes = dict(notes or {})
        self.warnings = list(warnings)
        self.students = list(students)


def _lessons(source_dir: Path, lessons, submissions: Path) -> list[str]:
    if lessons:
        missing = [name for name in lessons if not (source_dir / f"{name}.ipynb").is_file()]
        if missing:
            raise ValueError(f"lessons {missing} have no source notebook in {source_dir}; "
                             f"available: {sorted(p.stem for p in source_dir.glob('*.ipynb'))}")
        return list(lessons)
    available = sorted(p.stem for p in source_dir.glob("*.ipynb"))
    submitted = {p.stem for p in submissions.rglob("*.ipynb")}
    return [name for name in available if name in submitted]


def _fonts() -> dict[str, bytes]:
    """Matplotlib's font cache, read once: each kernel gets its own copy (saves seconds)."""
    try:
        import matplotlib

        cache = Path(matplotlib.get_cachedir())
        return {p.name: p.read_bytes() for p in cache.glob("fontlist*.json") if p.stat().st_size < 2**22}
    except Exception:
        return {}


def _hidden(submissions: Path, source_dir: Path, out: Path, tmp_root: Path) -> list[Path]:
    hidden = [submissions, source_dir, out, tmp_root]
    root = submissions.resolve()
    if root.name == "submitted" or (root / "submitted").is_dir():  # an nbgrader course folder
        hidden.append(root.parent if root.name == "submitted" else root)
    return hidden


#: The longest temporary folder path the kernels' sockets allow: they are
#: ``TMP/cg-XXXXXXXX/sXXXXXXXX/p/run/k-ipc-99`` and a Unix socket path has 107 bytes at most.
MAX_TMP_PATH = 60


def _temporary_root(warnings: list[str]) -> Path:
    """The run's temporary folder, in ``TMPDIR`` unless that path is too long for the kernels'
    sockets: then in ``/tmp``, with a warning (or a ValueError saying what to do)."""
    base = tempfile.gettempdir()
    if len(base) > MAX_TMP_PATH:
        if not (os.path.isdir("/tmp") and os.access("/tmp", os.W_OK | os.X_OK)):
            raise ValueError(f"the temporary folder {base} is too long a path for the kernels' "
                             f"sockets (Unix socket paths are limited to 107 bytes): set TMPDIR "
                             f"to a folder of at most {MAX_TMP_PATH} characters")
        warnings.append(f"note: the temporary folder {base} is too long a path for the kernels' "
                        f"sockets (Unix socket paths are limited to 107 bytes): this run used /tmp")
        base = "/tmp"
    return Path(tempfile.mkdtemp(prefix="cg-", dir=base))


class _Cancel:
    """Ctrl-C or SIGTERM: kill the running kernels so that the workers end at once."""

    def __init__(self, context: Context):
        self.context, self.previous = context, None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            def on_term(signum, frame):
                raise KeyboardInterrupt

            self.previous = signal.signal(signal.SIGTERM, on_term)
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None and issubclass(kind, BaseException) and not issubclass(kind, Exception):
            self.context.cancelled.set()
            for session in list(self.context.live):
                session.kill()
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def grade(submissions, out, *, lessons=None, source_dir=None, jobs: int = 1,
          limits: Limits = Limits(), force: bool = False, allow_reference: bool = False,
          progress: bool = True, sandbox: bool = True, shard: tuple[int, int] = (1, 1)) -> Graded:
    """Grade every submission under ``submissions`` into ``out/gradebook.csv`` and feedback files.

    Args:
        submissions: a folder with one folder per student (their notebooks inside, or one
            folder deeper as in nbgrader's ``submitted/<student>/<assignment>/``).
        out: output folder: ``gradebook.csv``, ``feedback/<student>/<lesson>.md``, ``journal.jsonl``.
        lessons: lesson notebook stems to grade. Default: every course lesson someone submitted.
        source_dir: the course's source notebooks. Default: the course's ``notebooks/``.
        jobs: submissions graded at once (one kernel each). Default 1.
        limits: time and memory limits per submission. Default :class:`Limits` ().
        force: regrade what the journal already holds. Default False.
        allow_reference: only flag (do not zero) solutions calling the reference. Default False.
        progress: show a progress bar. Default True.
        sandbox: run every kernel in the bubblewrap sandbox (:mod:`sandbox`). Default True;
            False prints :data:`NO_SANDBOX_WARNING`.
        shard: ``(K, N)``: grade only the K-th of N shares of the students
            (:func:`~cnncourse.grading.shards.select`); ``out`` then holds that shard, to be
            combined with the others by :func:`~cnncourse.grading.shards.merge`. Default
            ``(1, 1)``: everyone.

    Returns:
        All rows of the gradebook, sorted by student, lesson and exercise order (:class:`Graded`).

    Raises:
        ValueError: bad arguments (the message says which and why), or ``out`` holds
            another shard's output (:class:`~cnncourse.grading.shards.ShardError`).
        SandboxUnavailable: ``sandbox`` is True but bwrap is missing or cannot run here.
    """
    submissions, out = Path(submissions), Path(out)
    source_dir = Path(source_dir) if source_dir else course_notebooks_dir()
    if not submissions.is_dir():
        raise ValueError(f"submissions must be a folder with one folder per student, got {submissions}")
    k, n = shard
    if not (isinstance(k, int) and isinstance(n, int) and 1 <= k <= n):
        raise ValueError(f"shard must be (K, N) with 1 <= K <= N, got {shard!r}")
    names = _lessons(source_dir, lessons, submissions)
    if not names:
        raise ValueError(f"no notebook under {submissions} is named like a course lesson in "
                         f"{source_dir} ({', '.join(sorted(p.stem for p in source_dir.glob('*.ipynb')))})")
    plans: dict[str, LessonPlan] = {name: prepare_lesson(load_source(source_dir / f"{name}.ipynb"))
                                    for name in names}
    everyone = roster(submissions)
    root = submissions / "submitted" if (submissions / "submitted").is_dir() else submissions
    if (root / out.name).resolve() == out.resolve():  # --out inside the submissions folder
        everyone = [name for name in everyone if name != student_name(out.name)]
    if not everyone:
        raise ValueError(f"no student folders in {submissions}: expected one folder per student "
                         f"(or nbgrader's submitted/<student>/<assignment>/)")
    check_output_folder(out, (k, n))
    found = find_submissions(submissions, names, students=set(select(everyone, k, n)))
    warnings = [] if sandbox else [NO_SANDBOX_WARNING]
    if not sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    tmp_root = _temporary_root(warnings)
    results, notes = {}, {}
    try:
        context = Context(limits, None, allow_reference, forbidden_prefixes(), _fonts(), tmp_root)
        if sandbox:
            context.sandbox = Sandbox(hidden=_hidden(submissions, source_dir, out, tmp_root))
            context.sandbox.check()
        journal = Journal(out / "journal.jsonl")
        done = {} if force else journal.load()
        if journal.rejected:
            warnings.append(f"{journal.rejected} journal entries failed authentication (forged, "
                            f"edited or from another key): those submissions were graded again")
        jobs_todo, keys = [], {}
        for student, by_lesson in found.items():
            for lesson, sub in by_lesson.items():
                notes[(student, lesson)] = sub.notes
                digest = hashlib.sha256(sub.data or (sub.problem or "").encode()).hexdigest()[:16]
                key = f"{digest}:{plans[lesson].source.digest}:{int(allow_reference)}"
                keys.setdefault(student, {})[lesson] = key
                entry = done.get((student, lesson))
                if entry is not None and entry["key"] == key:
                    results[(student, lesson)] = entry["rows"]
                else:
                    jobs_todo.append((Job(student, lesson, sub), key))
        manifest = {"shard": k, "of": n, "roster": everyone, "students": sorted(found),
                    "lessons": names, "keys": keys,
                    "sources": {name: plan.source.digest for name, plan in plans.items()},
                    "settings": {**dataclasses.asdict(limits), "allow_reference": allow_reference,
                                 "sandbox": sandbox}}
        write_manifest(out, {**manifest, "complete": False})
        try:
            _run(jobs_todo, plans, context, journal, results, jobs, progress)
        finally:  # also after Ctrl-C: what was graded is written out
            graded = Graded(write_outputs(out, results, names, found, notes), notes, warnings,
                            sorted(found))
            complete = all((s, lesson) in results for s in found for lesson in names)
            write_manifest(out, {**manifest, "complete": complete})
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return graded


def _run(jobs_todo, plans, context: Context, journal: Journal, results: dict, jobs: int,
         progress: bool) -> None:
    lock = threading.Lock()

    def work(job: Job, key: str) -> None:
        try:
            rows = grade_submission(job, plans[job.lesson], context)
        except Exception as exc:  # a grader bug must not lose the other submissions
            rows = [Row(job.student, job.lesson, p.test.grade_id, 0.0, p.test.points, "error",
                        f"internal grader error: {type(exc).__name__}: {exc}")
                    for p in plans[job.lesson].exercises]
        if context.cancelled.is_set():  # stopped by Ctrl-C: not a grade, graded again next run
            return
        with lock:
            journal.append(job.student, job.lesson, key, rows, job.submission.notes)
            results[(job.student, job.lesson)] = rows

    pool = ThreadPoolExecutor(max_workers=max(1, int(jobs)), thread_name_prefix="cnncourse-grade")
    try:
        with _Cancel(context):
            futures = [pool.submit(work, job, key) for job, key in jobs_todo]
            bar = tqdm(total=len(futures), unit="notebook", desc="grading", disable=not progress)
            for future in as_completed(futures):
                future.result()
                bar.update(1)
            bar.close()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        journal.close()

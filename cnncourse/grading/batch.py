"""Grading a whole class: find the submissions, grade N at once, journal each, write the gradebook.

Before any learner code runs, every submitted notebook is read into the grader's memory: a
submission that later writes into another learner's folder changes nothing that is graded.
Each (student, lesson) is graded in a worker thread that owns one learner kernel (a separate
process under limits, see :mod:`session`); its rows are appended to the journal the moment they
are made. At the end (also after Ctrl-C) ``gradebook.csv`` and every feedback file are written
from the grader's memory, atomically.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm.auto import tqdm

from .gradebook import Journal, Row, write_feedback, write_gradebook
from .notebooks import course_notebooks_dir, find_submissions, load_source
from .runner import Job, LessonPlan, grade_submission, prepare_lesson
from .session import Limits

__all__ = ["grade", "MAX_NOTEBOOK_BYTES"]

#: A submitted notebook larger than this is not graded (status ``invalid``).
MAX_NOTEBOOK_BYTES = 50 * 2**20


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


def _snapshot(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return b"<larger than the grader's limit>"
        return path.read_bytes()
    except OSError:
        return None


def _mpl_cache() -> Path | None:
    """A per-run matplotlib folder seeded with the grader's font cache (saves seconds per kernel)."""
    try:
        import matplotlib

        cache = Path(matplotlib.get_cachedir())
    except Exception:
        return None
    folder = Path(tempfile.mkdtemp(prefix="cnncourse-grade-mpl-"))
    for font_list in cache.glob("fontlist*.json"):
        shutil.copy(font_list, folder / font_list.name)
    return folder


def grade(submissions, out, *, lessons=None, source_dir=None, jobs: int = 1,
          limits: Limits = Limits(), force: bool = False, allow_reference: bool = False,
          progress: bool = True) -> list[Row]:
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

    Returns:
        All rows of the gradebook, sorted by student, lesson and exercise order.
    """
    submissions, out = Path(submissions), Path(out)
    source_dir = Path(source_dir) if source_dir else course_notebooks_dir()
    if not submissions.is_dir():
        raise ValueError(f"submissions must be a folder with one folder per student, got {submissions}")
    names = _lessons(source_dir, lessons, submissions)
    if not names:
        raise ValueError(f"no notebook under {submissions} is named like a course lesson in "
                         f"{source_dir} ({', '.join(sorted(p.stem for p in source_dir.glob('*.ipynb')))})")
    plans: dict[str, LessonPlan] = {name: prepare_lesson(load_source(source_dir / f"{name}.ipynb"))
                                    for name in names}
    found = find_submissions(submissions, names)
    root = submissions / "submitted" if (submissions / "submitted").is_dir() else submissions
    for student in list(found):  # --out inside the submissions folder is not a student
        if (root / student).resolve() == out.resolve():
            del found[student]
    if not found:
        raise ValueError(f"no student folders in {submissions}: expected one folder per student "
                         f"(or nbgrader's submitted/<student>/<assignment>/)")
    jobs_todo, results = [], {}
    journal = Journal(out / "journal.jsonl")
    done = {} if force else journal.load()
    for student, notebooks in found.items():
        for lesson, path in notebooks.items():
            job = Job(student, lesson, _snapshot(path), path.parent if path else None)
            digest = hashlib.sha256(job.notebook or b"").hexdigest()[:16]
            key = f"{digest}:{plans[lesson].source.digest}:{int(allow_reference)}"
            entry = done.get((student, lesson))
            if entry is not None and entry["key"] == key:
                results[(student, lesson)] = entry["rows"]
            else:
                jobs_todo.append((job, key))
    lock = threading.Lock()
    mpl_dir = _mpl_cache()

    def work(job: Job, key: str) -> list[Row]:
        try:
            rows = grade_submission(job, plans[job.lesson], limits, allow_reference, mpl_dir)
        except Exception as exc:  # a grader bug must not lose the other submissions
            rows = [Row(job.student, job.lesson, p.test.grade_id, 0.0, p.test.points, "error",
                        f"internal grader error: {type(exc).__name__}: {exc}")
                    for p in plans[job.lesson].exercises]
        with lock:
            journal.append(job.student, job.lesson, key, rows)
            results[(job.student, job.lesson)] = rows
        return rows

    pool = ThreadPoolExecutor(max_workers=max(1, int(jobs)), thread_name_prefix="cnncourse-grade")
    try:
        futures = [pool.submit(work, job, key) for job, key in jobs_todo]
        bar = tqdm(total=len(futures), unit="notebook", desc="grading", disable=not progress)
        for future in as_completed(futures):
            future.result()
            bar.update(1)
        bar.close()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        journal.close()
        if mpl_dir is not None:
            shutil.rmtree(mpl_dir, ignore_errors=True)
        rows = _write_outputs(out, results, names, found)
    return rows


def _write_outputs(out: Path, results: dict, names: list[str], found: dict) -> list[Row]:
    rows = []
    for student in sorted(found):
        for lesson in names:
            lesson_rows = results.get((student, lesson))
            if lesson_rows is None:
                continue
            rows.extend(lesson_rows)
            write_feedback(out, student, lesson, lesson_rows)
    write_gradebook(out / "gradebook.csv", rows)
    return rows

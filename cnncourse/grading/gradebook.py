"""The gradebook: rows, the append-only journal that makes grading resumable, the CSV and feedback.

Every graded (student, lesson) is appended to ``DIR/journal.jsonl`` as one JSON line the moment
it is graded, and the file is ``fsync``-ed: a crash or Ctrl-C of the grader loses nothing already
graded, and a re-run skips what the journal holds (unless ``--force``, or the submission or the
source notebook changed since: each entry carries their fingerprints). ``gradebook.csv`` and the
feedback files are rewritten at the end from the grader's own memory, each atomically (a temp
file, then ``os.replace``), so a reader never sees half a file and whatever learner code wrote
into them meanwhile is overwritten.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

__all__ = ["Row", "Journal", "write_atomic", "write_gradebook", "feedback_text", "write_feedback",
           "COLUMNS", "STATUSES"]

COLUMNS = ("student", "lesson", "exercise", "points", "max_points", "status", "message")

#: Statuses a row can have.
STATUSES = ("passed", "failed", "flagged", "error", "timeout", "crashed", "missing", "invalid")


@dataclass
class Row:
    """One exercise of one student's lesson. ``message`` is the full feedback text."""

    student: str
    lesson: str
    exercise: str
    points: float
    max_points: float
    status: str
    message: str

    def csv_message(self, limit: int = 300) -> str:
        """The first line of the message, shortened, for the CSV (the feedback file has it all)."""
        first = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return first if len(first) <= limit else first[: limit - 1] + "…"


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Journal:
    """Append-only record of graded (student, lesson) pairs: ``journal.jsonl`` in the output folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = None

    def load(self) -> dict[tuple[str, str], dict]:
        """Entries already graded: ``(student, lesson) -> {"key": ..., "rows": [Row, ...]}``.

        Unreadable lines (a line cut short by a crash) are skipped; a later entry for the same
        pair replaces an earlier one.
        """
        done: dict[tuple[str, str], dict] = {}
        if not self.path.exists():
            return done
        names = [f.name for f in fields(Row)]
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                    rows = [Row(**{n: r[n] for n in names}) for r in entry["rows"]]
                    done[(entry["student"], entry["lesson"])] = {"key": entry["key"], "rows": rows}
                except (ValueError, KeyError, TypeError):
                    continue
        return done

    def append(self, student: str, lesson: str, key: str, rows: list[Row]) -> None:
        """Record one graded pair and ``fsync`` it before returning."""
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        entry = {"student": student, "lesson": lesson, "key": key, "rows": [asdict(r) for r in rows]}
        self._file.write(json.dumps(entry) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def write_gradebook(path: str | Path, rows: list[Row]) -> None:
    """Write ``rows`` as ``gradebook.csv`` (one row per student, lesson and exercise), atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.student, r.lesson, r.exercise, f"{r.points:g}", f"{r.max_points:g}",
                         r.status, r.csv_message()])
    write_atomic(path, buffer.getvalue())


def feedback_text(student: str, lesson: str, rows: list[Row]) -> str:
    """The feedback a learner reads: total, then each exercise with its full check message."""
    got = sum(r.points for r in rows)
    total = sum(r.max_points for r in rows)
    lines = [f"# {lesson} — feedback for {student}", "", f"Score: {got:g} / {total:g}", ""]
    for r in rows:
        lines += [f"## {r.exercise}: {r.points:g} / {r.max_points:g} ({r.status})", "", "```",
                  r.message.strip(), "```", ""]
    return "\n".join(lines)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"


def write_feedback(out_dir: str | Path, student: str, lesson: str, rows: list[Row]) -> Path:
    """Write ``DIR/feedback/<student>/<lesson>.md`` atomically; return its path."""
    path = Path(out_dir) / "feedback" / _safe(student) / f"{_safe(lesson)}.md"
    write_atomic(path, feedback_text(student, lesson, rows))
    return path

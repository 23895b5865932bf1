"""The gradebook: rows, the authenticated journal that makes grading resumable, CSV and feedback.

Every graded (student, lesson) is appended to ``DIR/journal.jsonl`` as one JSON line the moment
it is graded, and the file is ``fsync``-ed: a crash or Ctrl-C of the grader loses nothing already
graded, and a re-run skips what the journal holds (unless ``--force``, or the submission or the
source notebook changed since: each entry carries their fingerprints). Each line carries an
HMAC-SHA256 made with a key that only the grader reads (``DIR/.journal-key``, created on the
first run, mode 0600, in a folder no sandboxed kernel can see): a line that was forged or
edited fails the check and its submission is graded again. ``gradebook.csv`` and the feedback
files are rewritten at the end from the grader's own memory, each atomically (a temp file, then
``os.replace``), so a reader never sees half a file.

Feedback files are named by :func:`feedback_folder`, which never gives two students the same
folder, even on a case-insensitive file system.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .._atomic import atomic_write

__all__ = ["Row", "Journal", "write_atomic", "write_gradebook", "feedback_text", "write_feedback",
           "write_outputs", "feedback_folder", "COLUMNS", "STATUSES"]

COLUMNS = ("student", "lesson", "exercise", "points", "max_points", "status", "message")

#: Statuses a row can have.
STATUSES = ("passed", "review", "failed", "flagged", "error", "timeout", "crashed", "missing",
            "invalid")
_WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?")


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
    """Write ``text`` to ``path`` as UTF-8, atomically (:func:`cnncourse._atomic.atomic_write`)."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


class Journal:
    """Append-only, authenticated record of graded (student, lesson) pairs (``journal.jsonl``).

    ``create=False`` only reads: no folder or key is made (a missing key fails every line).
    """

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = None
        self._key = self._load_key(self.path.parent / ".journal-key", create)
        self.rejected = 0  # entries that failed authentication in the last load()

    @staticmethod
    def _load_key(path: Path, create: bool = True) -> bytes:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600) \
                if create else None
        except FileExistsError:
            fd = None
        if fd is not None:
            key = secrets.token_hex(32)
            with os.fdopen(fd, "w") as f:
                f.write(key)
            return bytes.fromhex(key)
        try:
            with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)) as f:
                return bytes.fromhex(f.read(65).decode("ascii"))
        except (OSError, ValueError, UnicodeDecodeError):
            # An unreadable key cannot vouch for anything: a fresh one, so every line fails.
            return secrets.token_bytes(32)

    def _mac(self, entry: dict) -> str:
        body = json.dumps({k: v for k, v in entry.items() if k != "mac"}, sort_keys=True)
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def load(self) -> dict[tuple[str, str], dict]:
        """Authentic entries: ``(student, lesson) -> {"key", "rows": [Row, ...], "notes"}``.

        Unreadable lines (a line cut short by a crash) are skipped; lines whose HMAC does not
        match are skipped and counted in :attr:`rejected`; a later entry for the same pair
        replaces an earlier one.
        """
        done: dict[tuple[str, str], dict] = {}
        self.rejected = 0
        if not self.path.exists():
            return done
        names = [f.name for f in fields(Row)]
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                    if not hmac.compare_digest(str(entry.get("mac", "")), self._mac(entry)):
                        self.rejected += 1
                        continue
                    rows = [Row(**{n: r[n] for n in names}) for r in entry["rows"]]
                    done[(entry["student"], entry["lesson"])] = {
                        "key": entry["key"], "rows": rows, "notes": list(entry.get("notes", []))}
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue
        return done

    def append(self, student: str, lesson: str, key: str, rows: list[Row],
               notes: list[str] = ()) -> None:
        """Record one graded pair and ``fsync`` it before returning."""
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        entry = {"student": student, "lesson": lesson, "key": key,
                 "rows": [asdict(r) for r in rows], "notes": list(notes)}
        entry["mac"] = self._mac(entry)
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


def feedback_text(student: str, lesson: str, rows: list[Row], notes: list[str] = ()) -> str:
    """The feedback a learner reads: total, notes, then each exercise with its full message."""
    got = sum(r.points for r in rows)
    total = sum(r.max_points for r in rows)
    lines = [f"# {lesson} — feedback for {student}", "", f"Score: {got:g} / {total:g}", ""]
    lines += [f"Note: {note}" for note in notes] + ([""] if notes else [])
    for r in rows:
        lines += [f"## {r.exercise}: {r.points:g} / {r.max_points:g} ({r.status})", "", "```",
                  r.message.strip().replace("```", "ˋˋˋ"), "```", ""]
    return "\n".join(lines)


def feedback_folder(student: str) -> str:
    """The folder name of a student's feedback: the name itself when it is plain (lower-case
    ASCII letters, digits, ``.``, ``_``, ``-``), else a plain form of it plus ``~`` and a hash
    of the whole name. ``~`` never occurs in a plain name, so no two students share a folder,
    even on file systems that ignore case or normalise Unicode."""
    if re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", student) and not student.endswith(".") \
            and not _WINDOWS_RESERVED.fullmatch(student):
        return student
    plain = re.sub(r"[^a-z0-9._-]+", "_", student.lower()).strip("._-")[:40] or "student"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{plain}~{digest}"


def write_feedback(out_dir: str | Path, student: str, lesson: str, rows: list[Row],
                   notes: list[str] = ()) -> Path:
    """Write ``DIR/feedback/<feedback_folder(student)>/<lesson>.md`` atomically; return its path."""
    path = Path(out_dir) / "feedback" / feedback_folder(student) / f"{lesson}.md"
    write_atomic(path, feedback_text(student, lesson, rows, notes))
    return path


def write_outputs(out_dir: str | Path, results: dict, lessons: list[str], students,
                  notes: dict | None = None) -> list[Row]:
    """Write ``gradebook.csv`` and every feedback file of a run; return the gradebook's rows.

    ``results`` maps ``(student, lesson)`` to its rows; the gradebook lists ``students`` sorted,
    each with its ``lessons`` in the order given (pairs without rows are left out), so a run
    and a merge of shards (:mod:`~cnncourse.grading.shards`) write the same files.
    """
    rows, notes = [], notes or {}
    for student in sorted(students):
        for lesson in lessons:
            lesson_rows = results.get((student, lesson))
            if lesson_rows is None:
                continue
            rows.extend(lesson_rows)
            write_feedback(out_dir, student, lesson, lesson_rows, notes.get((student, lesson), ()))
    write_gradebook(Path(out_dir) / "gradebook.csv", rows)
    return rows

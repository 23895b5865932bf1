"""Finding the submissions and reading them as files an attacker may have crafted.

- Only **regular files** are read: every candidate is checked with ``lstat`` (a symbolic link,
  a FIFO, a device, a socket or a folder named like a notebook is ``invalid``, with the reason),
  opened with ``O_NOFOLLOW | O_NONBLOCK``, checked again on the open file (the same file, still
  regular) and read with a bounded read: at most :data:`MAX_NOTEBOOK_BYTES`.
- Two candidate notebooks for the same student and lesson (``ann/02.ipynb`` and
  ``ann/ps2/02.ipynb``): the newest regular file is graded and the others are named in a note
  (feedback and summary).
- Folder names are shown as :func:`student_name` makes them: bytes that are not UTF-8, control
  and invisible characters, a backslash, a leading character that a spreadsheet would run as a
  formula, and combining marks of names that are not in Unicode normal form are escaped, so two
  different folders always get two different names, and no name can fake another or a path.
- The learner's other files (data next to the notebook) are copied into the kernel's working
  folder with the same care: regular files only, no links followed, 50 MB in all.
"""
from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["Submission", "find_submissions", "roster", "read_regular", "student_name", "copy_folder",
           "MAX_NOTEBOOK_BYTES", "MAX_FOLDER_BYTES"]

#: A submitted notebook larger than this is not graded (status ``invalid``).
MAX_NOTEBOOK_BYTES = 50 * 2**20
#: The learner's other files copied next to their notebook, in all.
MAX_FOLDER_BYTES = 50 * 2**20
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


@dataclass
class Submission:
    """One student's notebook of one lesson, read before any learner code ran.

    ``data`` is ``None`` when nothing is graded: ``problem`` then says why (not submitted,
    not a regular file, too large); ``notes`` are shown in the feedback and the summary.
    """

    student: str
    lesson: str
    path: Path | None = None
    data: bytes | None = None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)


def student_name(raw: str) -> str:
    """The name a student's folder is graded under (see the module docstring); injective."""
    normal = unicodedata.normalize("NFC", raw) == raw
    out = []
    for i, ch in enumerate(raw):
        code = ord(ch)
        category = unicodedata.category(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 (os.fsdecode's surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif (ch == "\\" or category[0] in "CZ" and ch != " " or (not normal and category[0] == "M")
              or (i == 0 and ch in "=+-@ \t") or (i == len(raw) - 1 and ch == " ")):
            # \xHH is kept for ASCII (bytes that are not UTF-8 are all >= 0x80): no two collide
            out.append(f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out) or "\\x00"


def _kind(mode: int) -> str | None:
    return next((what for test, what in _KINDS if test(mode)), None if stat.S_ISREG(mode) else "not a file")


def read_regular(path: Path, max_bytes: int, st: os.stat_result | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_bytes``.

    Raises:
        ValueError: with the reason (a link, a FIFO..., too large) a learner can act on.
    """
    st = st or os.lstat(path)
    what = _kind(st.st_mode)
    if what:
        raise ValueError(f"{path.name} is {what}, not a regular file: the grader reads only "
                         f"real notebook files")
    if st.st_size > max_bytes:
        raise ValueError(f"{path.name} is {st.st_size / 2**20:.0f} MiB, more than the grader's "
                         f"limit of {max_bytes / 2**20:.0f} MiB")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise ValueError(f"{path.name} was replaced while the grader read it")
        chunks, left = [], max_bytes + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise ValueError(f"{path.name} grew past the grader's limit of {max_bytes / 2**20:.0f} MiB")
    return data


def _entries(folder: Path):
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def _candidates(student_dir: Path, names: set[str]) -> dict[str, list[tuple[Path, os.stat_result]]]:
    found: dict[str, list] = {}
    for entry in _entries(student_dir):
        if entry.name in names:
            found.setdefault(entry.name, []).append((Path(entry.path), entry.stat(follow_symlinks=False)))
        elif entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
            for inner in _entries(Path(entry.path)):
                if inner.name in names:
                    found.setdefault(inner.name, []).append(
                        (Path(inner.path), inner.stat(follow_symlinks=False)))
    return found


def _when(st: os.stat_result) -> str:
    return datetime.fromtimestamp(st.st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _choose(student: str, lesson: str, student_dir: Path, options) -> Submission:
    regular = [o for o in options if stat.S_ISREG(o[1].st_mode)]
    path, st = max(regular or options, key=lambda o: (o[1].st_mtime_ns, -len(o[0].parts), str(o[0])))
    sub = Submission(student, lesson, path)
    if len(options) > 1:
        rel = lambda p: str(p.relative_to(student_dir))  # noqa: E731
        others = ", ".join(f"{rel(p)} ({_when(s)})" for p, s in options if p != path)
        sub.notes.append(f"{len(options)} notebooks named {path.name} were submitted: "
                         f"{rel(path)} ({_when(st)}), the newest, was graded; not graded: {others}")
    try:
        sub.data = read_regular(path, MAX_NOTEBOOK_BYTES, st)
    except (OSError, ValueError) as exc:
        sub.problem = str(exc) if isinstance(exc, ValueError) else f"{path.name} cannot be read ({exc.strerror})"
    return sub


def _student_folders(root: Path):
    """``(student name, folder entry)`` for every student folder under ``root``, sorted."""
    if (root / "submitted").is_dir():
        root = root / "submitted"
    for entry in _entries(root):
        if entry.name.startswith(".") or not (entry.is_dir(follow_symlinks=False) or entry.is_symlink()):
            continue
        yield student_name(entry.name), entry


def roster(root: str | Path) -> list[str]:
    """The names of every student with a folder under ``root`` (as :func:`find_submissions`
    names them), sorted; nothing is read but the folder's listing."""
    return sorted(name for name, _ in _student_folders(Path(root)))


def find_submissions(root: str | Path, lessons: list[str],
                     students=None) -> dict[str, dict[str, Submission]]:
    """Read every student's notebooks: ``student name -> lesson -> Submission``.

    ``root`` holds one folder per student with the notebooks directly inside or one folder
    deeper (nbgrader's ``submitted/<student>/<assignment>/<lesson>.ipynb``); a ``root`` that
    contains a ``submitted/`` folder is read as an nbgrader course directory. Folders starting
    with ``.`` are skipped; a student folder that is a symbolic link is not entered (every
    lesson of it is ``invalid``). ``students``: only these names are read (default: all).
    """
    names = {f"{lesson}.ipynb": lesson for lesson in lessons}
    found: dict[str, dict[str, Submission]] = {}
    for student, entry in _student_folders(Path(root)):
        if students is not None and student not in students:
            continue
        if entry.is_symlink():
            found[student] = {lesson: Submission(student, lesson, problem=f"the folder {student} is "
                              f"a symbolic link: the grader reads only real folders and files")
                              for lesson in lessons}
            continue
        options = _candidates(Path(entry.path), set(names))
        found[student] = {lesson: (_choose(student, lesson, Path(entry.path), options[f"{lesson}.ipynb"])
                                   if f"{lesson}.ipynb" in options else
                                   Submission(student, lesson, problem="no notebook submitted"))
                          for lesson in lessons}
    return found


def copy_folder(folder: Path | None, dest: Path, max_bytes: int = MAX_FOLDER_BYTES, depth: int = 3) -> None:
    """Copy the learner's other files from ``folder`` into ``dest``: regular files only (no link
    followed, no notebook, nothing from ``.ipynb_checkpoints``), ``depth`` folders deep, at most
    ``max_bytes`` in all (the rest is left out)."""
    dest.mkdir(parents=True, exist_ok=True)
    if folder is None:
        return
    budget = [max_bytes]

    def walk(src: Path, out: Path, level: int) -> None:
        for entry in _entries(src):
            if entry.name.startswith(".ipynb_checkpoints") or entry.name.endswith(".ipynb"):
                continue
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode) and level < depth:
                walk(Path(entry.path), out / entry.name, level + 1)
            elif stat.S_ISREG(st.st_mode) and st.st_size <= budget[0]:
                try:
                    data = read_regular(Path(entry.path), budget[0], st)
                except (OSError, ValueError):
                    continue
                budget[0] -= len(data)
                out.mkdir(parents=True, exist_ok=True)
                (out / entry.name).write_bytes(data)

    walk(folder, dest, 1)

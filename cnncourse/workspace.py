"""The learner's workspace: ``cnncourse start`` writes it, ``cnncourse progress`` reports on it.

``start`` copies the student version of every lesson into the workspace and never overwrites a
file there: a lesson already present is left alone, and when the course's version of it has
changed since it was written, the new version goes beside it as
``02_convolution.new-2026-11-26.ipynb``. What was written is recorded in
``.cnncourse/manifest.json`` inside the workspace (a hash per lesson), so re-running ``start``
adds new lessons only (and writes again a lesson the learner deleted, for a fresh start).

``progress`` runs each lesson of the workspace in its own kernel (nbclient, a timeout per cell,
errors allowed so that one broken exercise does not stop the rest), reads the outcome of every
test cell and prints a table: lesson, exercise, passed/failed, message.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .notebook_tools import exercise_cells, lesson_paths, lessons_dir, read_notebook, student_version

__all__ = [
    "DEFAULT_DIR",
    "StartReport",
    "ExerciseResult",
    "start",
    "progress",
    "run_notebook",
    "results_of",
    "format_table",
    "register",
]

DEFAULT_DIR = "cnncourse-work"
MANIFEST = Path(".cnncourse") / "manifest.json"


@dataclass
class StartReport:
    """What ``start`` did, one list of file names per outcome."""

    written: list
    updated_beside: list
    unchanged: list


def _fingerprint(nb) -> str:
    text = json.dumps([(c.cell_type, c.source) for c in nb.cells], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _load_manifest(workspace: Path) -> dict:
    path = workspace / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def _beside_name(workspace: Path, stem: str) -> Path:
    day = datetime.date.today().isoformat()
    candidate, k = workspace / f"{stem}.new-{day}.ipynb", 2
    while candidate.exists():
        candidate, k = workspace / f"{stem}.new-{day}-{k}.ipynb", k + 1
    return candidate


def start(directory: Path | str = DEFAULT_DIR, source: Path | str | None = None) -> StartReport:
    """Write the student versions of all lessons into ``directory`` without overwriting anything.

    Args:
        directory: the workspace (created if needed). Default: ``./cnncourse-work``.
        source: the folder of complete lessons. Default: :func:`~cnncourse.notebook_tools.lessons_dir`.

    Returns:
        A :class:`StartReport`: lessons written, newer versions written beside an existing
        lesson, and lessons left as they were.
    """
    workspace = Path(directory)
    workspace.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(workspace)
    report = StartReport([], [], [])
    for path in lesson_paths(source if source is not None else lessons_dir()):
        nb = student_version(read_notebook(path))
        digest = _fingerprint(nb)
        target = workspace / path.name
        versions = manifest.setdefault(path.name, {"versions": []})["versions"]
        if digest in versions and target.exists():  # a deleted lesson is written again
            report.unchanged.append(target.name)
            continue
        if not target.exists():
            nbformat.write(nb, str(target))
            report.written.append(target.name)
        elif _fingerprint(read_notebook(target)) == digest:
            report.unchanged.append(target.name)
        else:
            beside = _beside_name(workspace, path.stem)
            nbformat.write(nb, str(beside))
            report.updated_beside.append(beside.name)
        if digest not in versions:
            versions.append(digest)
    (workspace / MANIFEST).parent.mkdir(exist_ok=True)
    (workspace / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return report


# ---------------------------------------------------------------------------- progress
@dataclass
class ExerciseResult:
    """The outcome of one test cell of a workspace notebook."""

    lesson: str
    exercise: str
    passed: bool
    message: str
    points: float


def run_notebook(path: Path | str, timeout: int = 120, kernel_name: str = "python3",
                 on_cell=None):
    """Execute a notebook in a fresh kernel (its folder as working directory), errors allowed.

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
    try:  # the kernel's own log lines (e.g. its TCP warning) would clutter the learner's terminal
        client.execute(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except Exception as exc:  # kernel died, timeout of the whole run...: report, keep the cells run
        nb.metadata["cnncourse_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return nb


def _first_lines(text: str, n: int = 2) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:n])


def _solution_error(nb, exercise: str) -> str | None:
    """``"Name: message"`` of the first error raised by a solution cell of ``exercise``, unless it
    is the stub's ``NotImplementedError`` (that only means not done yet)."""
    for cell in exercise_cells(nb):
        if cell.role != "solution" or cell.exercise != exercise:
            continue
        for o in nb.cells[cell.index].get("outputs", []):
            if o.get("output_type") == "error" and o.get("ename") != "NotImplementedError":
                return f"{o.get('ename', 'Error')}: {_first_lines(o.get('evalue', ''), 1)}"
    return None


def results_of(nb, lesson: str) -> list[ExerciseResult]:
    """Pass/fail and a one-line message for each test cell of an executed notebook."""
    results = []
    for cell in exercise_cells(nb):
        if cell.role != "test":
            continue
        outputs = nb.cells[cell.index].get("outputs", [])
        errors = [o for o in outputs if o.get("output_type") == "error"]
        ran = nb.cells[cell.index].get("execution_count") is not None
        if errors:
            name, value = errors[0].get("ename", "Error"), errors[0].get("evalue", "")
            failed_above = _solution_error(nb, cell.exercise)
            if name == "AssertionError":
                message = _first_lines(value).removeprefix(f"✗ {cell.exercise}: ")
            elif name == "KeyboardInterrupt":
                message = ("stopped: it ran longer than the time allowed per cell (--timeout) — "
                           "an endless loop, or a very slow function?")
            elif name == "NameError" and failed_above:
                message = f"the cell that defines it failed: {failed_above}"
            elif name == "NameError":
                message = f"not done yet, or renamed? ({value})"
            else:
                message = f"{name}: {_first_lines(value, 1)}"
            results.append(ExerciseResult(lesson, cell.exercise, False, message, cell.points))
        elif not ran:
            reason = nb.metadata.get("cnncourse_error", "the notebook stopped before this cell")
            results.append(ExerciseResult(lesson, cell.exercise, False, f"not run: {reason}",
                                          cell.points))
        else:
            text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
            results.append(ExerciseResult(lesson, cell.exercise, True,
                                          _first_lines(text, 1) or "passed", cell.points))
    return results


def format_table(results: list[ExerciseResult], width: int = 100) -> str:
    """A plain-text table: lesson, exercise, result, message; then the total."""
    rows = [("lesson", "exercise", "result", "message")]
    for r in results:
        message = r.message if len(r.message) <= width else r.message[: width - 1] + "…"
        rows.append((r.lesson, r.exercise, "passed" if r.passed else "FAILED", message))
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    lines = ["  ".join(row[k].ljust(widths[k]) for k in range(3)) + "  " + row[3] for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 7)
    done = sum(r.points for r in results if r.passed)
    total = sum(r.points for r in results)
    n_passed = sum(r.passed for r in results)
    lines.append(f"\n{n_passed} of {len(results)} exercises passed, {done:g} of {total:g} points.")
    return "\n".join(lines)


def _missing_tests(source: Path | None, path: Path, found: list[ExerciseResult],
                   message: str = "test cell missing from your notebook (deleted?): copy it back "
                                  "from the course's version") -> list[ExerciseResult]:
    """A failed row for each test cell of the course's version of this lesson that the
    learner's copy no longer has (deleted, or its metadata lost), so that nothing goes unseen."""
    if source is None or not (source / path.name).is_file():
        return []
    seen = {r.exercise for r in found}
    return [ExerciseResult(path.stem, cell.exercise, False, message, cell.points)
            for cell in exercise_cells(read_notebook(source / path.name))
            if cell.role == "test" and cell.exercise not in seen]


def progress(directory: Path | str = DEFAULT_DIR, timeout: int = 120, show_progress: bool = True,
             kernel_name: str = "python3", source: Path | str | None = None) -> list[ExerciseResult]:
    """Run every lesson of a workspace and return the result of each exercise.

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
    for path in lesson_paths(workspace):
        try:
            n_code = sum(c.cell_type == "code" for c in read_notebook(path).cells)
        except Exception as exc:  # not JSON, not a notebook, unreadable: report it, go on
            reason = (f"cannot read {path.name} ({type(exc).__name__}): rename it and run "
                      f"`cnncourse start` for a fresh copy")
            results.extend(_missing_tests(course, path, [], reason)
                           or [ExerciseResult(path.stem, "-", False, reason, 0.0)])
            continue
        with tqdm(total=n_code, desc=path.stem, unit="cell", leave=False,
                  disable=not show_progress, file=sys.stderr) as bar:
            nb = run_notebook(path, timeout=timeout, kernel_name=kernel_name,
                              on_cell=lambda: bar.update(1))
        found = results_of(nb, path.stem)
        results.extend(found + _missing_tests(course, path, found))
    return results


# ---------------------------------------------------------------------------- command line
def _launch_lab(workspace: Path) -> int:
    jupyter = shutil.which("jupyter")
    command = [jupyter, "lab"] if jupyter else [sys.executable, "-m", "jupyterlab"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # JupyterLab refuses to start as root (common in containers and cloud VMs); the
        # learner asked to open the course, so say what we do instead of failing.
        print("Running as root: starting JupyterLab with --allow-root.")
        command.append("--allow-root")
    return subprocess.call(command, cwd=str(workspace))


def _start_command(args) -> int:
    try:
        report = start(args.directory)
    except OSError as exc:  # DIR is a file, not writable...: say so, no traceback
        print(f"cnncourse start: cannot write the workspace {args.directory!r}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2
    for name in report.written:
        print(f"  new      {name}")
    for name in report.updated_beside:
        print(f"  updated  {name}  (a newer version, written beside your copy)")
    if report.unchanged:
        print(f"  kept     {len(report.unchanged)} lesson(s) as they are")
    print(f"Workspace: {Path(args.directory).resolve()}")
    if args.no_lab:
        return 0
    return _launch_lab(Path(args.directory))


def _progress_command(args) -> int:
    if args.timeout <= 0:
        print(f"cnncourse progress: --timeout must be a number of seconds > 0 (got {args.timeout})",
              file=sys.stderr)
        return 2
    try:
        results = progress(args.directory, timeout=args.timeout, show_progress=not args.quiet)
    except FileNotFoundError as exc:
        print(f"cnncourse progress: {exc}", file=sys.stderr)
        return 2
    if not results:
        print(f"no exercises found in {args.directory}: lessons are the NN_name.ipynb files "
              f"that `cnncourse start` writes")
        return 0
    print(format_table(results))
    return 0


def register(subparsers) -> None:
    """Add the ``start`` and ``progress`` sub-commands to the ``cnncourse`` command line."""
    p = subparsers.add_parser("start", help="write your workspace copy of the lessons and open JupyterLab",
                              description="Write the student versions of all lessons into DIR "
                              "(never overwriting your files) and open JupyterLab there.")
    p.add_argument("directory", nargs="?", default=DEFAULT_DIR, metavar="DIR",
                   help=f"the workspace folder (default: ./{DEFAULT_DIR})")
    p.add_argument("--no-lab", action="store_true", help="only write the files, do not start JupyterLab")
    p.set_defaults(func=_start_command)

    p = subparsers.add_parser("progress", help="run the checks of your workspace and show a table",
                              description="Run every lesson of DIR in its own kernel and print, "
                              "for each exercise, whether its check passes.")
    p.add_argument("directory", nargs="?", default=DEFAULT_DIR, metavar="DIR",
                   help=f"the workspace folder (default: ./{DEFAULT_DIR})")
    p.add_argument("--timeout", type=int, default=120, help="seconds allowed per cell (default: 120)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_progress_command)


"""The learner's workspace: ``cnncourse start`` writes it, ``cnncourse progress`` reports on it.

``start`` copies the student version of every lesson into the workspace and never overwrites a
file there: a lesson already present is left alone, and when the course's version of it has
changed since it was written, the new version goes beside it as
``02_convolution.new-2026-11-26.ipynb``. What was written is recorded in
``.cnncourse/manifest.json`` inside the workspace (a hash per lesson), so re-running ``start``
adds new lessons only (and writes again a lesson the learner deleted, for a fresh start).

A workspace is the folder that holds that manifest: :func:`find_workspace` finds the one a
folder is in (walking up), so both commands work from anywhere inside it — JupyterLab's terminal
opens in the workspace. ``progress`` itself lives in :mod:`cnncourse.progress`; this module also
holds the command-line front of both commands.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .notebook_tools import lesson_paths, lessons_dir, read_notebook, student_version

__all__ = [
    "DEFAULT_DIR",
    "MANIFEST",
    "StartReport",
    "find_workspace",
    "start",
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


def find_workspace(folder: Path | str = ".") -> Path | None:
    """The workspace that ``folder`` is in: ``folder`` itself or the nearest folder above it
    that holds ``.cnncourse/manifest.json``; ``None`` when there is none."""
    here = Path(folder).resolve()
    for candidate in (here, *here.parents):
        if (candidate / MANIFEST).is_file():
            return candidate
    return None


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


# ---------------------------------------------------------------------------- command line
_RUNNING = """\
JupyterLab now runs in this terminal and keeps it busy while you work. Your browser should open
the course; if it does not, open the http://127.0.0.1:...?token=... address printed below.
To stop JupyterLab: save your notebooks (Ctrl-S), then press Ctrl-C twice in this terminal.
"""


def _launch_lab(workspace: Path, port: int | None = None, browser: bool = True) -> int:
    # this Python's JupyterLab: a `jupyter` found first on PATH may belong to another environment
    command = [sys.executable, "-m", "jupyterlab"]
    if port is not None:
        command.append(f"--port={port}")
    if not browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # JupyterLab refuses to start as root (common in containers and cloud VMs); the
        # learner asked to open the course, so say what we do instead of failing.
        print("Running as root: starting JupyterLab with --allow-root.")
        command.append("--allow-root")
    print(_RUNNING, flush=True)
    try:
        return subprocess.call(command, cwd=str(workspace))
    except KeyboardInterrupt:  # Ctrl-C reached us too: JupyterLab has stopped, no traceback
        return 0


def _workspace_arg(directory: str | None) -> tuple[Path, bool]:
    """The workspace a command works on, and whether it was found by looking around: the given
    folder (or the workspace it is in), else the workspace the current folder is in, else
    ``./cnncourse-work``."""
    if directory is not None:
        given = Path(directory)
        return (find_workspace(given) if given.is_dir() else None) or given, False
    found = find_workspace(Path.cwd())
    return (found, True) if found is not None else (Path(DEFAULT_DIR), False)


def _start_command(args) -> int:
    workspace, found = _workspace_arg(args.directory)
    if found:
        print(f"You are inside the workspace {workspace}: updating it.")
    try:
        report = start(workspace)
    except OSError as exc:  # DIR is a file, not writable...: say so, no traceback
        print(f"cnncourse start: cannot write the workspace {str(workspace)!r}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2
    for name in report.written:
        print(f"  new      {name}")
    for name in report.updated_beside:
        print(f"  updated  {name}  (a newer version, written beside your copy)")
    if report.unchanged:
        print(f"  kept     {len(report.unchanged)} lesson(s) as they are")
    print(f"Workspace: {workspace.resolve()}")
    if args.no_lab:
        return 0
    return _launch_lab(workspace, args.port, browser=not args.no_browser)


def _progress_command(args) -> int:
    from . import progress as runner

    if args.timeout <= 0:
        print(f"cnncourse progress: --timeout must be a number of seconds > 0 (got {args.timeout})",
              file=sys.stderr)
        return 2
    workspace, _ = _workspace_arg(args.directory)
    if args.directory is None and not workspace.is_dir():
        print(f"cnncourse progress: {Path.cwd()} is not inside a workspace (no "
              f"{MANIFEST} here or in a folder above) and there is no ./{DEFAULT_DIR}: run it "
              f"inside your workspace, or give its folder: `cnncourse progress DIR`. "
              f"`cnncourse start` makes a workspace.", file=sys.stderr)
        return 2
    only = None
    if args.exercise:
        lesson = runner.lesson_of(workspace, args.exercise) if workspace.is_dir() else None
        if lesson is None:
            print(f"cnncourse progress: no lesson in {workspace} has an exercise {args.exercise!r}",
                  file=sys.stderr)
            return 2
        only = [lesson]
    try:
        results = runner.progress(workspace, timeout=args.timeout, show_progress=not args.quiet,
                                  only=only)
    except FileNotFoundError as exc:
        print(f"cnncourse progress: {exc}", file=sys.stderr)
        return 2
    if not results:
        print(f"no exercises found in {workspace}: lessons are the NN_name.ipynb files "
              f"that `cnncourse start` writes")
        return 0
    if args.exercise:
        print(runner.format_details([r for r in results if r.exercise == args.exercise]))
        return 0
    print(runner.format_table(results))
    unfinished = [r for r in results if not r.passed]
    if args.full and unfinished:
        print("\n" + runner.format_details(unfinished))
    elif unfinished:
        print(textwrap.fill("Whole messages, with the smallest failing case: `cnncourse progress "
                            "--full`, or `cnncourse progress --exercise NAME` for one exercise.",
                            runner.terminal_width(), break_on_hyphens=False))
    return 0


def register(subparsers) -> None:
    """Add the ``start`` and ``progress`` sub-commands to the ``cnncourse`` command line."""
    p = subparsers.add_parser(
        "start", help="write your workspace copy of the lessons and open JupyterLab",
        description="Write the student versions of all lessons into DIR (never overwriting your "
        "files) and open JupyterLab there. JupyterLab keeps running in this terminal until you "
        "press Ctrl-C twice.")
    p.add_argument("directory", nargs="?", default=None, metavar="DIR",
                   help=f"the workspace folder (default: the workspace you are in, else "
                        f"./{DEFAULT_DIR})")
    p.add_argument("--no-lab", action="store_true", help="only write the files, do not start JupyterLab")
    p.add_argument("--port", type=int, default=None,
                   help="the port JupyterLab listens on (default: 8888, or the next free one)")
    p.add_argument("--no-browser", action="store_true",
                   help="do not open a browser (open the printed address yourself)")
    p.set_defaults(func=_start_command)

    p = subparsers.add_parser(
        "progress", help="run the checks of your workspace and show a table",
        description="Run every lesson of DIR in its own kernel and print, for each exercise, "
        "whether it is passed, failed or not done, with what to do.")
    p.add_argument("directory", nargs="?", default=None, metavar="DIR",
                   help=f"the workspace folder (default: the workspace you are in, else "
                        f"./{DEFAULT_DIR})")
    p.add_argument("--full", action="store_true",
                   help="after the table, every message that is not a pass, whole (with the "
                        "smallest failing case)")
    p.add_argument("--exercise", metavar="NAME",
                   help="run only the lesson of exercise NAME and show its whole message")
    p.add_argument("--timeout", type=int, default=120, help="seconds allowed per cell (default: 120)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_progress_command)

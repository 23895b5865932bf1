"""``cnncourse grade``: the command-line front of :func:`cnncourse.grading.grade`."""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

__all__ = ["register", "run"]

_EPILOG = """\
Example:
  cnncourse grade submitted/ --lessons 02_convolution --jobs 2 --out grades/
Writes grades/gradebook.csv (student, lesson, exercise, points, max_points, status, message),
grades/feedback/<student>/<lesson>.md and grades/journal.jsonl (resume: run the same command
again; --force regrades everything). Every learner kernel runs in a bubblewrap sandbox (bwrap:
read-only files, the solutions and other submissions hidden, no network, its own processes)
under the limits below; --no-sandbox runs them as your user instead (trusted code only).

A large class, on several machines (see deploy/ in the course's repository):
  cnncourse grade submitted/ --shard 1/3 --out shard-1/     # and 2/3, 3/3 elsewhere
  cnncourse grade merge shard-1/ shard-2/ shard-3/ --out grades/
(A submissions folder named "merge" must be written ./merge.)
"""


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``grade`` sub-command to the ``cnncourse`` parser's ``subparsers``."""
    p = subparsers.add_parser(
        "grade", help="grade a folder of submitted notebooks into a gradebook",
        description="Grade a class: run each learner's own cells in a separate, limited kernel, "
                    "check every exercise against the course's source notebooks, and write a "
                    "gradebook and one feedback file per student and lesson.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", nargs="+", metavar="SUBMISSIONS | merge OUT_DIR",
                   help="folder with one folder per student (nbgrader's "
                        "submitted/<student>/<assignment>/ works too); or `merge` and the output "
                        "folders of every shard, to combine them into one gradebook in --out")
    p.add_argument("--out", required=True, help="output folder for gradebook.csv and feedback/")
    p.add_argument("--shard", metavar="K/N",
                   help="grade only the K-th of N equal shares of the students (sorted by name, "
                        "dealt in turn), into its own --out; combine the N folders with "
                        "`cnncourse grade merge`")
    p.add_argument("--lessons", nargs="+", metavar="LESSON",
                   help="lesson notebook names, e.g. 02_convolution (default: every lesson submitted)")
    p.add_argument("--source", default=None,
                   help="folder of the course's source notebooks (default: the course's notebooks/)")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds per cell and per exercise check (default 60)")
    p.add_argument("--notebook-timeout", type=float, default=300.0,
                   help="seconds for all of a learner's cells together (default 300)")
    p.add_argument("--memory", type=int, default=3072, metavar="MB",
                   help="address space each learner kernel may map beyond NumPy and PyTorch, "
                        "in MiB (default 3072)")
    p.add_argument("--force", action="store_true", help="regrade submissions already in the journal")
    p.add_argument("--allow-reference", action="store_true",
                   help="only flag solutions that call the reference implementation (default: zero)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run learner kernels without the bubblewrap sandbox, as your user "
                        "(only for trusted submissions, or inside a container that is the sandbox)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    """Run ``cnncourse grade`` (or ``cnncourse grade merge``) with parsed ``args``; print a
    per-lesson summary."""
    if args.submissions[0] == "merge":
        return _merge(args)
    if len(args.submissions) > 1:
        print(f"cnncourse grade: expected one submissions folder, got {len(args.submissions)} "
              f"({' '.join(args.submissions)}); to combine the output folders of shards: "
              f"cnncourse grade merge OUT_DIR... --out DIR", file=sys.stderr)
        return 2
    from .batch import grade
    from .sandbox import SandboxUnavailable
    from .session import Limits
    from .shards import parse_shard

    if args.jobs < 1 or args.timeout <= 0 or args.notebook_timeout <= 0 or args.memory < 256:
        print("cnncourse grade: --jobs must be >= 1, --timeout and --notebook-timeout > 0, "
              f"--memory >= 256 MB (got jobs={args.jobs}, timeout={args.timeout}, "
              f"notebook-timeout={args.notebook_timeout}, memory={args.memory})", file=sys.stderr)
        return 2
    limits = Limits(cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout,
                    memory_mb=args.memory)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        print(f"cnncourse grade: --out must be a folder (it gets gradebook.csv and feedback/), "
              f"got the file {args.out}", file=sys.stderr)
        return 2
    # `02_convolution.ipynb` or `notebooks/02_convolution.ipynb` (tab completion) name a lesson too
    lessons = [Path(name).name.removesuffix(".ipynb") for name in args.lessons or []] or None
    try:
        shard = parse_shard(args.shard) if args.shard is not None else (1, 1)
        rows = grade(args.submissions[0], args.out, lessons=lessons, source_dir=args.source,
                     jobs=args.jobs, limits=limits, force=args.force,
                     allow_reference=args.allow_reference, progress=not args.no_progress,
                     sandbox=not args.no_sandbox, shard=shard)
    except (ValueError, SandboxUnavailable) as exc:
        print(f"cnncourse grade: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ncnncourse grade: interrupted. Everything graded so far is in {args.out}; run the "
              f"same command again to grade the rest.", file=sys.stderr)
        return 130
    if shard != (1, 1):
        print(f"shard {shard[0]}/{shard[1]}: {len(rows.students)} students graded into {args.out}")
    _report(rows, args.out)
    return 0


_GRADE_ONLY = ("lessons", "source", "shard", "force", "allow_reference", "no_sandbox")


def _merge(args) -> int:
    """``cnncourse grade merge OUT_DIR... --out DIR``."""
    from .batch import Graded
    from .shards import ShardError, merge

    defaults = {"lessons": None, "source": None, "shard": None, "force": False,
                "allow_reference": False, "no_sandbox": False}
    given = [name for name in _GRADE_ONLY if getattr(args, name) != defaults[name]]
    if given:
        print(f"cnncourse grade merge: takes only the shards' output folders and --out "
              f"(got {', '.join('--' + g.replace('_', '-') for g in given)}): the shards were "
              f"graded with their own settings", file=sys.stderr)
        return 2
    try:
        rows, notes = merge(args.submissions[1:], args.out)
    except (ShardError, OSError) as exc:
        print(f"cnncourse grade merge: {exc}", file=sys.stderr)
        return 2
    students = sorted({r.student for r in rows})
    print(f"merged {len(args.submissions) - 1} shards into {args.out}")
    _report(Graded(rows, notes, (), students), args.out)
    return 0


def _report(rows, out) -> None:
    students = defaultdict(set)
    for r in rows:
        students[r.lesson].add(r.student)
    for lesson, names in sorted(students.items()):
        got = sum(r.points for r in rows if r.lesson == lesson)
        most = sum(r.max_points for r in rows if r.lesson == lesson)
        print(f"{lesson}: {len(names)} students, {got:g} / {most:g} points in total")
    _print_summary(rows)
    print(f"gradebook: {out}/gradebook.csv")


def _print_summary(rows) -> None:
    """Statuses a person should look at, the notes about submissions, and the run's warnings."""
    review = sorted({(r.student, r.lesson) for r in rows if r.status in ("review", "flagged")})
    if review:
        print(f"to look at (status review or flagged): {len(review)} notebooks: "
              + ", ".join(f"{s}/{lesson}" for s, lesson in review[:20]) + (" ..." if len(review) > 20 else ""))
    for (student, lesson), notes in sorted(getattr(rows, "notes", {}).items()):
        for note in notes:
            print(f"note: {student}/{lesson}: {note}")
    for warning in getattr(rows, "warnings", []):
        print(warning, file=sys.stderr)

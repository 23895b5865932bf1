"""Build the stored lesson notebooks (notebooks/NN_name.ipynb) from their sources (lessons/NN_name.py).

    python scripts/build_lessons.py                  # every lesson: cells, fresh execution, outputs
    python scripts/build_lessons.py 02_convolution   # one lesson (or several; "02" works too)
    python scripts/build_lessons.py --check          # only say which stored notebooks are stale

Each lesson runs in a fresh kernel, in notebooks/, and is written only if every cell ran; the
time each took is printed. --check runs nothing: it compares cells, sources and metadata, and
exits 1 if a notebook is missing or differs (tests/test_lesson_sources.py does the same in CI).
The format of a source, and the whole loop, are in CONTRIBUTING.md.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnncourse.lesson_sources import build, notebook_for, source_paths, stale  # noqa: E402


def _chosen(names: list[str]) -> list[Path]:
    sources = source_paths()
    if not names:
        return sources
    chosen = []
    for name in names:
        stem = Path(name).stem
        found = [p for p in sources if p.stem == stem or p.stem.startswith(f"{stem}_")]
        if len(found) != 1:
            known = ", ".join(p.stem for p in sources)
            raise SystemExit(f"build_lessons: {name!r} names {len(found)} lessons; the lessons are: {known}")
        chosen += found
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", metavar="LESSON",
                        help="lesson names (02_convolution) or numbers (02); default: every lesson")
    parser.add_argument("--check", action="store_true",
                        help="do not build: exit 1 if a stored notebook differs from its source")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args(argv)
    sources = _chosen(args.lessons)
    if args.check:
        problems = [reason for reason in map(stale, sources) if reason]
        for reason in problems:
            print(reason)
        if not problems:
            print(f"{len(sources)} lesson notebook(s) are current with their sources")
        return 1 if problems else 0
    for source in sources:
        start = time.perf_counter()
        print(f"building {notebook_for(source).name} from lessons/{source.name} ...", flush=True)
        build(source, timeout=args.timeout)
        print(f"  done in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

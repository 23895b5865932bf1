"""How fast does ``cnncourse grade`` grade a class? (a benchmark, not a test)

Builds a synthetic class of the convolution lesson (``02_convolution``) from the course's own
notebook: correct submissions, wrong ones (kernel flipped, bias forgotten, output size off by
one, wrong predictions), blank student versions and broken ones (not JSON, an infinite loop, a
cell calling ``os._exit``, an import error, a memory bomb). Grades it with ``--jobs`` kernels at
once and prints submissions per minute and the points per kind of submission.

    python benchmarks/bench_grading.py            # 100 submissions, --jobs 2, --timeout 10
    python benchmarks/bench_grading.py -n 20 --jobs 1
"""
from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from cnncourse.grading import Limits, grade
from cnncourse.notebook_tools import lessons_dir, read_notebook, student_version

LESSON = "02_convolution"


def _edit(nb: dict, grade_id: str, old: str, new: str) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if old not in source:
                raise ValueError(f"{old!r} not in the {grade_id} cell: update the benchmark")
            cell["source"] = source.replace(old, new)
    return nb


def _add_cell(nb: dict, code: str, at: int = 3) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"].insert(at, {"cell_type": "code", "metadata": {}, "source": code,
                            "outputs": [], "execution_count": None})
    return nb


def make_class(n: int) -> list[tuple[str, str, object]]:
    """``(student, kind, notebook dict or raw text)`` for a class of ``n`` mixed submissions."""
    source = read_notebook(lessons_dir() / f"{LESSON}.ipynb")
    kinds = {
        "correct": source,
        "flipped_kernel": _edit(source, "correlate2d-solution", "* kernel)", "* kernel[::-1, ::-1])"),
        "no_bias": _edit(source, "conv2d-solution", "    if bias is not None:\n", "    if False:\n"),
        "off_by_one": _edit(source, "conv_output_size-solution", "// stride + 1", "// stride"),
        "wrong_prediction": _edit(source, "q02_params-solution", "+ 16", "+ 1"),
        "blank": student_version(source),
        "not_json": '{"cells": [ this is not JSON',
        "infinite_loop": _edit(source, "conv2d-solution", "    ### BEGIN SOLUTION\n",
                               "    ### BEGIN SOLUTION\n    while True:\n        pass\n"),
        "os_exit": _add_cell(source, "import os\nos._exit(1)"),
        "import_error": _add_cell(source, "import a_package_nobody_installed"),
        "memory_bomb": _add_cell(source, "hog = []\nwhile True:\n    hog.append(bytearray(2**27))"),
    }
    # Per 100: 50 correct, 28 wrong (7 of each kind), 12 blank, 10 broken (2 of each kind).
    plan = (["correct"] * 50 + ["flipped_kernel", "no_bias", "off_by_one", "wrong_prediction"] * 7
            + ["blank"] * 12 + ["not_json", "infinite_loop", "os_exit", "import_error",
                                "memory_bomb"] * 2)
    return [(f"student{i:03d}", kind, kinds[kind]) for i, kind in
            enumerate(plan[i * len(plan) // n] for i in range(n))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="submissions (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="kernels at once (default 2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per cell (default 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        subs = Path(tmp) / "submitted"
        kinds = {}
        for student, kind, nb in make_class(args.n):
            folder = subs / student / "ps2"
            folder.mkdir(parents=True)
            text = nb if isinstance(nb, str) else json.dumps(nb)
            (folder / f"{LESSON}.ipynb").write_text(text)
            kinds[student] = kind
        start = time.perf_counter()
        rows = grade(subs, Path(tmp) / "out", lessons=[LESSON], jobs=args.jobs,
                     limits=Limits(cell_timeout=args.timeout), progress=True)
        seconds = time.perf_counter() - start
    points, most = defaultdict(list), {}
    for r in rows:
        points[r.student].append(r.points)
        most[r.student] = most.get(r.student, 0) + r.max_points
    by_kind = defaultdict(list)
    for student, kind in kinds.items():
        by_kind[kind].append(sum(points[student]))
    total = next(iter(most.values()))
    print(f"\n{args.n} submissions of {LESSON} graded in {seconds:.1f} s with --jobs {args.jobs} "
          f"--timeout {args.timeout:g}: {args.n / seconds * 60:.1f} submissions per minute")
    print(f"{'kind':<18} {'n':>3}  points (of {total:g})")
    for kind, scores in by_kind.items():
        print(f"{kind:<18} {len(scores):>3}  {sorted(set(scores))}")


if __name__ == "__main__":
    main()

"""How fast does ``cnncourse grade`` grade a class, with and without the sandbox? (a benchmark)

Builds a synthetic class of the convolution lesson (``02_convolution``) from the course's own
notebook: correct submissions, wrong ones (kernel flipped, bias forgotten, output size off by
one, wrong predictions), blank student versions and broken ones (not JSON, an infinite loop, a
cell calling ``os._exit``, an import error, a memory bomb). Grades it, in one run, in four
configurations: with the bubblewrap sandbox and with ``--no-sandbox``, each with this machine's
``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` set and with both unset. The class is cut into
``--rounds`` chunks and the configurations take turns on each chunk (in a rotating order), so
that a machine whose load drifts during the run slows them alike; each chunk is graded in a
fresh child process (the environment must be set before OpenBLAS loads) and timed inside it.
Prints seconds and submissions per minute per configuration, the sandbox's cost (the ratio
sandbox / no sandbox, target <= 1.20: as measured, and for one run of the whole class, which
pays the sandbox's start-up test once, not once per chunk), and checks that every configuration
gave the same points.

    python benchmarks/bench_grading.py                 # 100 submissions, --jobs 2, --timeout 10
    python benchmarks/bench_grading.py -n 20 --rounds 2   # a quick check
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

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


BLAS_DEFAULTS = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512"}
CONFIGS = [(sandbox, blas) for blas in ("set", "unset") for sandbox in (True, False)]


def _child(args) -> None:
    """Grade one chunk (``--child FOLDER``) and print its time and points as JSON."""
    from cnncourse.grading import Limits, grade
    from cnncourse.grading.sandbox import Sandbox

    preflight, check = [], Sandbox.check

    def timed_check(self, *a, **k):  # the sandbox's start-up test, paid once per run
        begin = time.perf_counter()
        check(self, *a, **k)
        preflight.append(time.perf_counter() - begin)

    Sandbox.check = timed_check
    start = time.perf_counter()
    rows = grade(Path(args.child) / "submitted", Path(args.child) / f"out-{args.tag}",
                 lessons=[LESSON], jobs=args.jobs, limits=Limits(cell_timeout=args.timeout),
                 progress=False, sandbox=args.sandbox == "on")
    seconds = time.perf_counter() - start
    points = defaultdict(float)
    for r in rows:
        points[r.student] += r.points
    print(json.dumps({"seconds": seconds, "preflight": sum(preflight), "points": points}))


def _environment(blas: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_DEFAULTS}
    if blas == "set":
        env.update({k: os.environ.get(k, v) for k, v in BLAS_DEFAULTS.items()})
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="submissions (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="kernels at once (default 2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per cell (default 10)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="chunks the class is cut into; configurations alternate (default 4)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", choices=("on", "off"), help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args)
    totals, points, kinds, preflights = defaultdict(float), defaultdict(dict), {}, defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        chunks = [Path(tmp) / f"chunk{r}" for r in range(args.rounds)]
        for i, (student, kind, nb) in enumerate(make_class(args.n)):
            folder = chunks[i % args.rounds] / "submitted" / student / "ps2"
            folder.mkdir(parents=True)
            (folder / f"{LESSON}.ipynb").write_text(nb if isinstance(nb, str) else json.dumps(nb))
            kinds[student] = kind
        for r, chunk in enumerate(chunks):
            order = CONFIGS[r % len(CONFIGS):] + CONFIGS[:r % len(CONFIGS)]
            for sandbox, blas in order:
                tag = f"{'sandbox' if sandbox else 'nosandbox'}-{blas}"
                done = subprocess.run(
                    [sys.executable, __file__, "--child", str(chunk), "--tag", tag, "--jobs",
                     str(args.jobs), "--timeout", str(args.timeout), "--sandbox",
                     "on" if sandbox else "off"],
                    env=_environment(blas), capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    sys.exit(f"{tag} failed on chunk {r}:\n{done.stderr[-3000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                totals[(sandbox, blas)] += result["seconds"]
                preflights[(sandbox, blas)].append(result["preflight"])
                points[(sandbox, blas)].update(result["points"])
                print(f"chunk {r + 1}/{args.rounds}: {tag:<16} {result['seconds']:7.1f} s", flush=True)
    print(f"\n{args.n} submissions of {LESSON}, --jobs {args.jobs} --timeout {args.timeout:g}, "
          f"{args.rounds} rounds:")
    print(f"{'configuration':<34} {'seconds':>8} {'per minute':>11}")
    for sandbox, blas in CONFIGS:
        seconds = totals[(sandbox, blas)]
        label = f"{'sandbox' if sandbox else 'no sandbox'}, OPENBLAS_* {blas}"
        print(f"{label:<34} {seconds:8.1f} {args.n / seconds * 60:11.1f}")
    for blas in ("set", "unset"):
        checks = preflights[(True, blas)]
        # the chunks are separate runs, each paying the sandbox's start-up test; one run of the
        # whole class pays it once
        one_run = totals[(True, blas)] - sum(checks) + sum(checks) / len(checks)
        ratio, ratio_one = (t / totals[(False, blas)] for t in (totals[(True, blas)], one_run))
        print(f"sandbox / no sandbox, OPENBLAS_* {blas}: {ratio:.3f} as measured ({len(checks)} "
              f"runs, start-up test {sum(checks) / len(checks):.1f} s each); {ratio_one:.3f} for one "
              f"run of {args.n} ({'within' if ratio_one <= 1.2 else 'OVER'} the 1.20 target)")
    reference = points[CONFIGS[0]]
    same = all(points[c] == reference for c in CONFIGS)
    print(f"every configuration gave the same points: {'yes' if same else 'NO'}")
    by_kind = defaultdict(list)
    for student, kind in kinds.items():
        by_kind[kind].append(reference.get(student))
    print(f"{'kind':<18} {'n':>3}  points")
    for kind, scores in by_kind.items():
        print(f"{kind:<18} {len(scores):>3}  {sorted(set(scores))}")
    if not same:
        sys.exit("the sandbox changed grades")


if __name__ == "__main__":
    main()

"""Lesson 7's case studies, measured exactly: the numbers the notebook can only print as ranges.

Runs the lesson source ``lessons/07_cells_and_satellites.py`` as a script (figures off, the
widget built but not shown), ``--runs`` times in fresh processes, and prints per run: the
cell detectors' counts (found / right / missed / false, with Wilson 95% intervals), the cloud
models' error rates with intervals, and the training times, then the spread of the times.
Nothing is re-implemented here, so the numbers are the lesson's own.

    python benchmarks/bench_lesson07.py            # 3 runs
    python benchmarks/bench_lesson07.py --runs 1 --threads 1

Timings are noisy on a shared machine: re-measure on a quiet one.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "07_cells_and_satellites.py"

_CHILD = r"""
import json, runpy, sys, time, contextlib, io
import matplotlib
matplotlib.use("Agg")
import torch
if len(sys.argv) > 2 and sys.argv[2] != "0":
    torch.set_num_threads(int(sys.argv[2]))
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    g = runpy.run_path(sys.argv[1], run_name="__lesson__")
total = time.perf_counter() - start
from cnncourse.metrics import wilson_interval
def rate(errors, n):
    low, high = wilson_interval(int(errors), int(n))
    return {"errors": int(errors), "n": int(n), "rate": errors / n, "low": low, "high": high}
T = len(g["test_centres"])
out = {"threads": torch.get_num_threads(), "script_s": total}
for name in ("baseline_scores", "cnn_scores"):
    s = g[name]
    out[name] = {"found": s["tp"] + s["fp"], "right": s["tp"],
                 "missed": rate(s["fn"], T), "false": rate(s["fp"], s["tp"] + s["fp"])}
for name in ("pixel_error", "sky_error", "patch_error"):
    e = g[name]
    out[name] = rate(e.errors, e.n)
for name in ("cell_train_time", "sky_train_time", "pixel_train_time"):
    out[name] = g[name]
print(json.dumps(out))
"""


def _pct(r: dict) -> str:
    return (f"{100 * r['rate']:.1f}% ({r['errors']}/{r['n']}) "
            f"[{100 * r['low']:.1f}%, {100 * r['high']:.1f}%]")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    env = dict(os.environ, MPLBACKEND="Agg")
    runs = []
    for k in range(args.runs):
        done = subprocess.run([sys.executable, "-c", _CHILD, str(LESSON), str(args.threads)],
                              capture_output=True, text=True, env=env, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        runs.append(r)
        print(f"run {k + 1} ({r['threads']} torch threads, whole lesson {r['script_s']:.1f} s)")
        for name, label in (("baseline_scores", "cells, threshold + watershed"), ("cnn_scores", "cells, CNN")):
            s = r[name]
            print(f"  {label:<26} found {s['found']}, right {s['right']}; missed {_pct(s['missed'])}; "
                  f"false {_pct(s['false'])}")
        print(f"  {'cells, CNN patch error':<26} {_pct(r['patch_error'])}")
        print(f"  {'clouds, per-pixel LR':<26} {_pct(r['pixel_error'])}")
        print(f"  {'clouds, CNN 9x9 patches':<26} {_pct(r['sky_error'])}")
        print(f"  training: cells CNN {r['cell_train_time']:.2f} s, clouds CNN {r['sky_train_time']:.2f} s, "
              f"LR {r['pixel_train_time']:.3f} s")
    if len(runs) > 1:
        for name in ("cell_train_time", "sky_train_time", "pixel_train_time", "script_s"):
            values = [r[name] for r in runs]
            print(f"{name}: median {statistics.median(values):.2f} s, min {min(values):.2f} s, "
                  f"max {max(values):.2f} s")


if __name__ == "__main__":
    main()

"""Lesson 4's MLP-versus-CNN comparison, measured exactly: the numbers the notebook prints as bands.

Runs the lesson source ``lessons/04_fully_connected.py`` as a script (figures off, the widget
built but not shown), ``--runs`` times in fresh processes, under both OpenBLAS settings (see
``_bench.py``), and prints per run, for the MLP and the CNN: parameters, test error rate with
its Wilson 95% interval, training time, accuracy on the test digits shifted 0-4 pixels, and the
error rate when both are retrained and tested on shuffled pixels; then the training times' spread.
Nothing is re-implemented here, so the numbers are the lesson's own.

    python benchmarks/bench_lesson04.py                       # 2 runs, OpenBLAS set and unset
    python benchmarks/bench_lesson04.py --runs 1 --openblas unset

Timings are noisy on a shared machine: re-measure on a quiet one.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import runpy
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import add_blas_argument, run_under_blas_settings  # noqa: E402

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "04_fully_connected.py"


def _rate(e) -> dict:
    return {"errors": int(e.errors), "n": int(e.n), "rate": e.rate, "low": e.low, "high": e.high}


def measure_once() -> dict:
    """Run the lesson in this process; return its comparison as plain numbers."""
    import matplotlib

    matplotlib.use("Agg")
    import torch

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        g = runpy.run_path(str(LESSON), run_name="__lesson__")
    out = {"threads": torch.get_num_threads(), "script_s": time.perf_counter() - start}
    for name, net, err, t, shuffled, t_shuffled in (
            ("MLP", "mlp_net", "err_mlp", "t_mlp", "err_mlp_shuffled", "t_mlp_shuffled"),
            ("CNN", "cnn", "err_cnn", "t_cnn", "err_cnn_shuffled", "t_cnn_shuffled")):
        out[name] = {"params": g["n_params"](g[net]), "error": _rate(g[err]), "train_s": g[t],
                     "shift_acc": list(g["shifted_acc"][name]),
                     "shuffled_error": _rate(g[shuffled]), "shuffled_train_s": g[t_shuffled]}
    return out


def _pct(r: dict) -> str:
    return (f"{100 * r['rate']:.2f}% ({r['errors']}/{r['n']}) "
            f"[{100 * r['low']:.2f}%, {100 * r['high']:.2f}%]")


def report(label: str, runs: list) -> None:
    print(f"\n--- OpenBLAS {label}: {len(runs)} run(s), {runs[0]['threads']} torch threads")
    for k, r in enumerate(runs, 1):
        print(f"run {k} (whole lesson {r['script_s']:.1f} s)")
        for name in ("MLP", "CNN"):
            m = r[name]
            shifts = "/".join(f"{a:.3f}" for a in m["shift_acc"])
            print(f"  {name}: {m['params']:,} params; error {_pct(m['error'])}; trained in "
                  f"{m['train_s']:.2f} s; accuracy shifted 0-4 px {shifts}; shuffled pixels "
                  f"{_pct(m['shuffled_error'])} ({m['shuffled_train_s']:.2f} s)")
    for name in ("MLP", "CNN"):
        times = [r[name]["train_s"] for r in runs]
        print(f"{name} training: median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
              f"max {max(times):.2f} s")
    ratios = [r["CNN"]["train_s"] / r["MLP"]["train_s"] for r in runs]
    print(f"CNN / MLP training time, side by side in each run: "
          f"{', '.join(f'{x:.2f}x' for x in ratios)}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    add_blas_argument(parser)
    args = parser.parse_args(argv)
    if args.openblas == "child":  # one setting: fresh processes for each run
        runs = []
        for _ in range(args.runs):
            done = subprocess.run([sys.executable, __file__, "--measure-once"], check=True,
                                  capture_output=True, text=True, env=dict(os.environ,
                                                                           MPLBACKEND="Agg"))
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        args.out.write_text(json.dumps(runs))
        return
    for label, runs in run_under_blas_settings(__file__, ["--runs", str(args.runs)],
                                               args.openblas, args.out):
        report(label, runs)


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure-once"]:
        print(json.dumps(measure_once()))
    else:
        main()

"""Time the course's convolution and pooling ops side by side, on the layer shapes of the course.

For each shape, forward and backward, in float32, in one run:

- ``naive*``    cnncourse.numpy_ops ``*_naive`` loops, timed on a slice of the batch and scaled
                up to the full batch (marked with ``*``);
- ``numpy``     cnncourse.numpy_ops, vectorized (im2col + one matmul);
- ``torch_ops`` cnncourse.torch_ops (unfold + one batched matmul, hand-written backward);
- ``F``         torch.nn.functional (backward = autograd's backward);
- the last two again on CUDA when a GPU is present.

Each time is the median of ``--repeats`` runs after a 0.2 s pause and warm-up
(``time.perf_counter``; CUDA is synchronised); the best run is kept too, and the geometric means
are given for both (the best times are steadier when other programs share the CPUs). The script also measures this machine's float32 matmul peak (2048 x 2048
``np.matmul``) and reports, per convolution row, the achieved GFLOP/s and the time ratio to
``F``, then the geometric mean of numpy/F and torch_ops/F over the convolution rows.

By default the script runs twice, in two processes, with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` set (as in the environment, else to this machine's ``Haswell``/``512``) and
with both unset (``--openblas set|unset`` for one of them), then prints the geometric means of
both side by side.

Usage::

    python benchmarks/bench_ops.py            # full run, a few minutes on 2 cores
    python benchmarks/bench_ops.py --quick    # fewer repeats, naive loops on LeNet rows only
    python benchmarks/bench_ops.py --threads 1   # one thread everywhere (fairer on a busy machine)

Results go to ``--out`` (default ``benchmarks/results/bench_ops.json``, git-ignored).
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cnncourse import numpy_ops, torch_ops

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import add_blas_argument, machine_info, run_under_blas_settings, write_json  # noqa: E402

__all__ = ["CONV_CASES", "POOL_CASES", "median_time", "matmul_peak_gflops", "run", "main"]

# name, x shape, weight shape, padding: the convolutions of LeNet on MNIST and a CIFAR VGG block.
CONV_CASES = [
    ("LeNet conv1", (64, 1, 28, 28), (6, 1, 5, 5), 0),
    ("LeNet conv2", (64, 6, 12, 12), (16, 6, 5, 5), 0),
    ("VGG conv1_1", (32, 3, 32, 32), (64, 3, 3, 3), 1),
    ("VGG conv1_2", (32, 64, 32, 32), (64, 64, 3, 3), 1),
    ("VGG conv2_1", (32, 64, 16, 16), (128, 64, 3, 3), 1),
]
# name, x shape, kernel size: max pooling 2x2 after LeNet conv1 and after a VGG block.
POOL_CASES = [
    ("LeNet pool1", (64, 6, 24, 24), 2),
    ("VGG pool1", (32, 64, 32, 32), 2),
]
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_ops.json"


# Seconds of pause before each implementation is timed: OpenBLAS's idle worker threads spin
# for about 2**28 cycles (~0.1 s) after their last product, and torch's threads a little, so
# without it one library's threads take CPU time from the next one's.
SETTLE_S = 0.2


def median_time(fn, repeats=7, warmup=2, setup=None, sync=None) -> float:
    """Median wall time of ``fn()`` (or ``fn(setup())``, setup not timed) in seconds."""
    return statistics.median(run_times(fn, repeats, warmup, setup, sync))


def run_times(fn, repeats=7, warmup=2, setup=None, sync=None, settle=0.0) -> list:
    """Wall times of ``repeats`` calls of ``fn()`` (or ``fn(setup())``, setup not timed) in
    seconds, after ``settle`` seconds of sleep and ``warmup`` untimed calls."""
    time.sleep(settle)
    times = []
    for i in range(warmup + repeats):
        arg = setup() if setup is not None else None
        if sync is not None:
            sync()
        start = time.perf_counter()
        fn(arg) if setup is not None else fn()
        if sync is not None:
            sync()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def matmul_peak_gflops(n=2048, repeats=5) -> float:
    """float32 ``np.matmul`` of two ``n x n`` matrices: ``2 n^3`` flops over the median time."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    return 2 * n**3 / median_time(lambda: np.matmul(a, b), repeats, warmup=1) / 1e9


def conv_flops(x_shape, w_shape, out_shape) -> int:
    """Multiply-adds of one conv2d forward, times 2: ``2 N F OH OW C KH KW``."""
    N, F_, OH, OW = out_shape
    return 2 * N * F_ * OH * OW * w_shape[1] * w_shape[2] * w_shape[3]


def _devices():
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _sync(device):
    return torch.cuda.synchronize if device == "cuda" else None


def _torch_impls(fwd_ops, bwd_ops, f_fwd, arrays, grad_out, kwargs):
    """``{column: (forward, backward, sync)}`` for torch_ops and F on every device.

    ``arrays`` are the tensor arguments; ``fwd_ops(*t, **kw)``/``bwd_ops(g, *t, **kw)`` are our
    ops, ``f_fwd`` is torch.nn.functional's forward (its backward is autograd's).
    """
    impls = {}
    for device in _devices():
        t = [torch.from_numpy(a).to(device) for a in arrays]
        g = torch.from_numpy(grad_out).to(device)
        suffix = "" if device == "cpu" else " cuda"

        def ours_fwd(t=t):
            with torch.no_grad():
                fwd_ops(*t, **kwargs)

        def f_forward(t=t):
            with torch.no_grad():
                f_fwd(*t, **kwargs)

        def f_graph(t=t):  # setup for autograd's backward: a fresh graph each time, not timed
            leaves = [a.detach().requires_grad_() for a in t]
            return f_fwd(*leaves, **kwargs), leaves

        impls["torch_ops" + suffix] = (ours_fwd, lambda t=t, g=g: bwd_ops(g, *t, **kwargs),
                                       _sync(device), None)
        impls["F" + suffix] = (f_forward, lambda pair, g=g: torch.autograd.grad(*pair, g),
                               _sync(device), f_graph)
    return impls


def _time_row(impls, naive, naive_scale, repeats, warmup):
    """Median and best forward and backward times (s) of every implementation:
    ``({dir: {column: median}}, {dir: {column: best}})``."""
    times, best = {"fwd": {}, "bwd": {}}, {"fwd": {}, "bwd": {}}
    if naive is not None:
        for direction, fn in zip(("fwd", "bwd"), naive):
            if fn is not None:
                times[direction]["naive*"] = naive_scale * median_time(fn, 1, warmup=0)
    for name, (fwd, bwd, sync, setup) in impls.items():
        for direction, fn, fn_setup in (("fwd", fwd, None), ("bwd", bwd, setup)):
            t = run_times(fn, repeats, warmup, setup=fn_setup, sync=sync, settle=SETTLE_S)
            times[direction][name], best[direction][name] = statistics.median(t), min(t)
    return times, best


def _conv_row(name, x_shape, w_shape, padding, opts, rng):
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32)
    b = rng.standard_normal(w_shape[0], dtype=np.float32)
    out_shape = numpy_ops.conv2d(x[:1], w, b, padding=padding).shape[1:]
    out_shape = (x_shape[0],) + out_shape
    go = rng.standard_normal(out_shape, dtype=np.float32)
    kw = {"padding": padding}
    impls = {"numpy": (lambda: numpy_ops.conv2d(x, w, b, **kw),
                       lambda: numpy_ops.conv2d_backward(go, x, w, b, **kw), None, None)}
    impls.update(_torch_impls(torch_ops.conv2d, torch_ops.conv2d_backward, F.conv2d,
                              (x, w, b), go, kw))
    n = opts["naive_images"] if name in opts["naive_rows"] else 0
    naive = None if n == 0 else (
        lambda: numpy_ops.conv2d_naive(x[:n], w, b, **kw),
        lambda: numpy_ops.conv2d_backward_naive(go[:n], x[:n], w, b, **kw),
    )
    times, best = _time_row(impls, naive, x_shape[0] / max(n, 1), opts["repeats"],
                            opts["warmup"])
    flops = conv_flops(x_shape, w_shape, out_shape)
    return {"kind": "conv2d", "name": name, "x": x_shape, "weight": w_shape, "padding": padding,
            "naive_images": n, "flops": {"fwd": flops, "bwd": 2 * flops}, "seconds": times,
            "best_seconds": best}


def _pool_row(name, x_shape, k, opts, rng):
    x = rng.standard_normal(x_shape, dtype=np.float32)
    out = numpy_ops.max_pool2d(x, k)
    go = rng.standard_normal(out.shape, dtype=np.float32)
    impls = {"numpy": (lambda: numpy_ops.max_pool2d(x, k),
                       lambda: numpy_ops.max_pool2d_backward(go, x, k), None, None)}
    impls.update(_torch_impls(torch_ops.max_pool2d, torch_ops.max_pool2d_backward, F.max_pool2d, (x,), go,
                              {"kernel_size": k}))
    n = opts["naive_images"] if name in opts["naive_rows"] else 0
    naive = None if n == 0 else (lambda: numpy_ops.max_pool2d_naive(x[:n], k), None)
    times, best = _time_row(impls, naive, x_shape[0] / max(n, 1), opts["repeats"],
                            opts["warmup"])
    return {"kind": "max_pool2d", "name": name, "x": x_shape, "kernel_size": k,
            "naive_images": n, "seconds": times, "best_seconds": best}


def _geomean(values):
    values = [v for v in values if v is not None and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _add_ratios(row):
    """Time ratios to F (same device) and, for convolutions, achieved GFLOP/s."""
    row["ratio_to_F"], row["best_ratio_to_F"], row["gflops"] = {}, {}, {}
    for direction, times in row["seconds"].items():
        for key, seconds in (("ratio_to_F", times), ("best_ratio_to_F",
                                                     row["best_seconds"][direction])):
            ref = {"": seconds.get("F"), " cuda": seconds.get("F cuda")}
            row[key][direction] = {
                col: t / ref[" cuda" if col.endswith("cuda") else ""]
                for col, t in seconds.items() if not col.startswith("F")
            }
        if "flops" in row:
            row["gflops"][direction] = {col: row["flops"][direction] / t / 1e9
                                        for col, t in times.items()}


def _print_table(rows, peak):
    columns = ["naive*", "numpy", "torch_ops", "F"] + [
        c for c in ("torch_ops cuda", "F cuda") if any(c in r["seconds"]["fwd"] for r in rows)]
    head = f"{'layer':<12} {'input x weight':<28} {'dir':<3} " + " ".join(
        f"{c + ' ms':>15}" for c in columns)
    cuda = "torch_ops cuda" in columns
    head += f" {'GFLOP/s numpy|ops|F':>21} {'numpy/F':>8} {'ops/F':>6}"
    head += f" {'cuda ops/F':>10}" if cuda else ""
    print(head)
    print("-" * len(head))
    for row in rows:
        shapes = "x".join(map(str, row["x"]))
        if row["kind"] == "conv2d":
            shapes += " * " + "x".join(map(str, row["weight"]))
        else:
            shapes += f" max {row['kernel_size']}x{row['kernel_size']}"
        for direction in ("fwd", "bwd"):
            times = row["seconds"][direction]
            cells = " ".join(f"{times[c] * 1e3:>15.2f}" if c in times else f"{'-':>15}"
                             for c in columns)
            gf = row["gflops"].get(direction)
            gf_text = "|".join(f"{gf[c]:.1f}" for c in ("numpy", "torch_ops", "F")) if gf else "-"
            ratios = row["ratio_to_F"][direction]
            line = (f"{row['name']:<12} {shapes:<28} {direction:<3} {cells} {gf_text:>21} "
                    f"{ratios['numpy']:>8.2f} {ratios['torch_ops']:>6.2f}")
            print(line + (f" {ratios['torch_ops cuda']:>10.2f}" if cuda else ""))
    print(f"\nfloat32 matmul peak (np.matmul 2048x2048): {peak:.1f} GFLOP/s. "
          f"Ratios are time / time of F on the same device (> 1 means slower than F).")
    naive_rows = [r for r in rows if r["naive_images"]]
    if naive_rows:
        print("naive*: NumPy loops timed on the first "
              f"{naive_rows[0]['naive_images']} image(s) of the batch, scaled to the full batch; "
              "'-' where not run (no naive pooling backward exists).")


def _limit_threads(threads):
    """Use ``threads`` threads in torch and in NumPy's BLAS (threadpoolctl, if installed)."""
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        print("threadpoolctl is not installed: NumPy's BLAS keeps its own thread count")
        return None
    return threadpool_limits(threads)


def run(quick=False, repeats=None, out=DEFAULT_OUT, threads=None):
    """Run every case; print the table and the summary; write and return the results."""
    limiter = _limit_threads(threads) if threads else None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load is not None and load > (os.cpu_count() or 1):
        print(f"warning: load average {load:.1f} on {os.cpu_count()} CPUs: other programs are "
              f"running, so the times below are slower and noisier than on an idle machine.\n")
    opts = {
        "repeats": repeats or (3 if quick else 7),
        "warmup": 1 if quick else 2,
        "naive_images": 1 if quick else 2,
        "naive_rows": {"LeNet conv1", "LeNet pool1"} if quick else
                      {name for name, *_ in CONV_CASES + POOL_CASES},
    }
    rng = np.random.default_rng(0)
    peak = matmul_peak_gflops()
    rows = [_conv_row(*case, opts, rng) for case in CONV_CASES]
    rows += [_pool_row(*case, opts, rng) for case in POOL_CASES]
    for row in rows:
        _add_ratios(row)
    summary = {}
    for key, kind in (("ratio_to_F", "median"), ("best_ratio_to_F", "best")):
        for direction in ("fwd", "bwd"):
            for col in ("numpy", "torch_ops", "torch_ops cuda"):
                ratios = [r[key][direction].get(col) for r in rows if r["kind"] == "conv2d"]
                if None not in ratios:  # no CUDA column without a GPU
                    name = "torch_ops cuda/F cuda" if col.endswith("cuda") else f"{col}/F"
                    summary[f"conv2d {direction} geomean {name} ({kind}s)"] = _geomean(ratios)
    _print_table(rows, peak)
    print()
    for key, value in summary.items():
        print(f"{key}: {value:.2f}")
    result = {
        "machine": {**machine_info(), "load_average_at_start": load},
        "dtype": "float32", "options": {**opts, "naive_rows": sorted(opts["naive_rows"])},
        "quick": quick, "matmul_peak_gflops": peak, "rows": rows, "summary": summary,
    }
    write_json(result, out)
    if limiter is not None:
        limiter.restore_original_limits()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats, naive loops on the LeNet rows only")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per cell")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON file to write")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for torch and NumPy's BLAS (default: their own choice)")
    add_blas_argument(parser)
    args = parser.parse_args(argv)
    if args.openblas == "child":
        return run(quick=args.quick, repeats=args.repeats, out=args.out, threads=args.threads)
    child_argv = (["--quick"] if args.quick else []) + (
        ["--repeats", str(args.repeats)] if args.repeats else []) + (
        ["--threads", str(args.threads)] if args.threads else [])
    results = run_under_blas_settings(__file__, child_argv, args.openblas, args.out)
    print("\nsummary (geometric means of time / time of F over the convolutions):")
    for key in results[0][1]["summary"]:
        print(f"  {key:<46}" + "  ".join(f"{label}: {result['summary'][key]:.2f}"
                                          for label, result in results))
    return results


if __name__ == "__main__":
    main()

"""Training benchmarks of the course's LeNet on the bundled MNIST split, measured side by side.

Parts (each a section below, sharing the table printer and JSON writer of ``_bench.py``):

(a) ``step``: one training step -- forward, loss, backward, SGD update -- on a batch of 64
    bundled MNIST digits, in float32 on the CPU with the default threads, for
    - ``numpy``          the NumPy model of :mod:`cnncourse.nn` with :mod:`cnncourse.optim`
                         (the first layer skips its input gradient, ``input_grad=False``, as
                         torch does for images that need no gradient);
    - ``numpy+grad_x``   the same, computing that input gradient too;
    - ``torch.nn``       the same model from ``torch.nn``, gradients by autograd;
    - ``torch_ops``      the model from :mod:`cnncourse.torch_ops` layers (our ops, our
                         hand-written backwards, inside autograd);
    timed in turn, round after round, each round a block of ``--block`` consecutive steps
    after a short pause (so that the worker threads of one library have stopped spinning
    before the next is timed); the table gives each one's median and best time per step and
    their ratios to ``torch.nn``. Target (issue 14): ``numpy`` <= 1.5x ``torch.nn``.

(b) ``fit``: training runs with :func:`cnncourse.training.fit` on the 8,000 bundled training
    digits, the 2,000 bundled test digits evaluated after every epoch: time to 98%, 98.5% and
    99% test accuracy and the final accuracy after each recipe's fixed budget of epochs, for
    the NumPy LeNet and for the best PyTorch recipe found (3 seeds), and the same LeNet recipe
    in torch for comparison; wall-clock and CPU seconds of training (evaluation excluded);
(c) the peak resident memory (RSS) of each run, each run in a process of its own;
(d) the same runs on CUDA when a GPU is present (and torch's peak CUDA memory).
    The recipes, the columns and how the targets are judged: ``_fit_runs.py``.

Part (a) runs twice, in two processes: once with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` set (as in the environment, else to this machine's ``Haswell``/``512``),
once with both unset (``--openblas set|unset`` for one of them); so does the NumPy run of part
(b) (torch's products and convolutions do not go through OpenBLAS). At the end one table
holds every row, and one JSON file every number (part (b)'s learning curves included). On a
shared machine the ratios measured side by side compare; re-measure absolute times on a quiet
machine (the load average is recorded with each run).

Usage::

    python benchmarks/bench_train.py                 # everything (5-10 min on 2 quiet cores)
    python benchmarks/bench_train.py --quick         # smoke test: 3 rounds, 2 epochs, 1 seed
    python benchmarks/bench_train.py --parts a       # only part (a); --rounds 10: fewer rounds
    python benchmarks/bench_train.py --parts b --openblas set --seeds 1

Results: ``--out`` (default ``benchmarks/results/bench_train.json``, git-ignored).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import (  # noqa: E402
    RESULTS,
    add_blas_argument,
    blas_settings,
    interleaved_times,
    machine_info,
    print_table,
    run_under_blas_settings,
    summarize,
    warn_if_busy,
    write_json,
)
import _fit_runs  # noqa: E402

DEFAULT_OUT = RESULTS / "bench_train.json"
BATCH = 64
# Seconds of pause before each timed block: OpenBLAS's idle worker threads spin for about
# 2**28 cycles (~0.1 s) after their last product before they sleep.
SETTLE_S = 0.2


# ============================== shared: the model and the data ==============================

def lenet(lib, **kw):
    """The LeNet of issue 14 from ``lib`` (cnncourse.nn, torch.nn or cnncourse.torch_ops):
    conv(1->6, 5) relu pool2, conv(6->16, 5) relu pool2, flatten, 256->120 relu, 120->84 relu,
    84->10."""
    return (lib.Sequential if hasattr(lib, "Sequential") else torch.nn.Sequential)(
        lib.Conv2d(1, 6, 5, **kw), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(6, 16, 5, **kw), lib.ReLU(), lib.MaxPool2d(2),
        lib.Flatten(), lib.Linear(256, 120, **kw), lib.ReLU(),
        lib.Linear(120, 84, **kw), lib.ReLU(), lib.Linear(84, 10, **kw))


def mnist_batch(n=BATCH):
    """The first ``n`` bundled training digits as float32 ``(n, 1, 28, 28)`` in [0, 1], labels."""
    from cnncourse.data import load_mnist

    images, labels = load_mnist("train")
    return (images[:n, None].astype(np.float32) / 255), labels[:n].astype(np.int64)


# ============================== part (a): one training step =================================

def step_functions(lr=0.01, momentum=0.9):
    """``{name: step()}``: one training step of each implementation on the same batch, all
    starting from the same weights; ``step()`` returns the loss before its update (so the
    implementations can be checked to do the same work: tests/test_bench_train.py)."""
    from cnncourse import nn, optim, torch_ops

    x, y = mnist_batch()
    torch.manual_seed(0)
    reference = lenet(torch.nn)
    state = reference.state_dict()

    ours = lenet(nn)
    ours.load_state_dict(state)
    criterion = nn.CrossEntropyLoss()
    ours_opt = optim.SGD(ours.parameters(), lr=lr, momentum=momentum)

    def numpy_step(input_grad=False):
        ours_opt.zero_grad()
        loss = criterion(ours(x), y)
        ours.backward(criterion.backward(), input_grad=input_grad)
        ours_opt.step()
        return loss

    def torch_model(model):
        model.load_state_dict(state)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt), yt)
            loss.backward()
            opt.step()
            return loss.item()
        return step

    return {"torch.nn": torch_model(reference), "numpy": numpy_step,
            "numpy+grad_x": lambda: numpy_step(True), "torch_ops": torch_model(lenet(torch_ops))}


def part_a(rounds, block):
    """Time the steps side by side; return the rows of the table."""
    times = interleaved_times(step_functions(), rounds, warmup=10, block=block, settle=SETTLE_S)
    summary = summarize(times, reference="torch.nn")
    return [{"part": "a", "what": f"training step, batch {BATCH}", "impl": name, **s,
             "median_ms": s["median_s"] * 1e3, "min_ms": s["min_s"] * 1e3}
            for name, s in summary.items()]


PART_A_COLUMNS = [("impl", "step (batch 64, float32, CPU)", ""), ("median_ms", "median ms", ".2f"),
                  ("min_ms", "best ms", ".2f"), ("ratio_median", "median/torch.nn", ".2f"),
                  ("ratio_min", "best/torch.nn", ".2f")]


# ============================== running and reporting ======================================

def run(rounds, block, out):
    """Run the parts in this process; print their tables; write and return the results."""
    warn_if_busy()
    result = {"machine": machine_info(), "dtype": "float32", "batch": BATCH, "rounds": rounds,
              "block": block, "settle_s": SETTLE_S, "rows": []}
    rows = part_a(rounds, block)
    print_table(rows, PART_A_COLUMNS)
    result["rows"] += rows
    ratio = next(row["ratio_median"] for row in rows if row["impl"] == "numpy")
    print(f"torch threads: {torch.get_num_threads()}. Target: numpy step <= 1.5x torch.nn: "
          f"{ratio:.2f}x, {'met' if ratio <= 1.5 else 'NOT met'} (medians).")
    write_json(result, out)
    return result


STEP_COLUMNS = [("step_ms", "step ms", ".2f"), ("step_ratio", "step/torch.nn", ".2f")]


def step_rows(results) -> list[dict]:
    """Part (a)'s rows for the common table, from ``[(OpenBLAS label, child result), ...]``."""
    return [{"part": "a", "run": f"step {row['impl']} ({label} OpenBLAS)", "blas": label,
             "impl": row["impl"], "step_ms": row["median_ms"], "step_best_ms": row["min_ms"],
             "step_ratio": row["ratio_median"], "step_best_ratio": row["ratio_min"]}
            for label, result in results for row in result["rows"]]


def step_targets(rows) -> list[str]:
    """Part (a)'s target, judged on the medians under each OpenBLAS setting."""
    return [f"NumPy LeNet step <= 1.5x torch.nn ({row['blas']} OpenBLAS): "
            f"{'met' if row['step_ratio'] <= 1.5 else 'NOT met'} ({row['step_ratio']:.2f}x, "
            f"medians)" for row in rows if row["impl"] == "numpy"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="ab",
                        help="which parts: a (training step), b (training runs, with (c) and "
                             "(d)) or ab (default)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 3 rounds of 2 steps, training runs of 2 epochs, 1 seed")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 30)")
    parser.add_argument("--block", type=int, default=None,
                        help="consecutive steps timed together in a round (default 10)")
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds of the best PyTorch recipe (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for the training runs (default: the libraries' defaults)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON file to write")
    add_blas_argument(parser)
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 30)
    block = args.block or (2 if args.quick else 10)
    if args.openblas == "child":
        return run(rounds, block, args.out)
    if not set(args.parts) <= {"a", "b"} or not args.parts:
        parser.error(f"--parts takes a, b or ab, not {args.parts!r}")
    labels = [label for label, _ in blas_settings(args.openblas)]
    result = {"machine": machine_info(), "quick": args.quick, "parts": args.parts,
              "dtype": "float32", "rows": [], "targets": []}
    if "a" in args.parts:
        print("part (a): one training step, batch 64", flush=True)
        steps = run_under_blas_settings(
            __file__, ["--rounds", str(rounds), "--block", str(block)], args.openblas, None)
        result["part_a"] = {label: child for label, child in steps}
        result["rows"] += step_rows(steps)
        result["targets"] += step_targets(result["rows"])
    if "b" in args.parts:
        print(f"\nparts (b)-(d): training runs ({'2 epochs, ' if args.quick else ''}one process "
              f"each)", flush=True)
        fits = _fit_runs.part_b(args.quick, labels, args.threads, args.seeds)
        result["rows"] += fits
        result["targets"] += _fit_runs.targets(fits)
        result["recipes"] = _fit_runs.RECIPES
    print(f"\nbench_train{' --quick' if args.quick else ''}: LeNet on the bundled MNIST split, "
          f"float32, {os.cpu_count()} CPUs, load average at start "
          f"{result['machine']['load_average_at_start']:.2f}")
    columns = _fit_runs.COLUMNS[:1] + (STEP_COLUMNS if "a" in args.parts else []) \
        + (_fit_runs.COLUMNS[1:] if "b" in args.parts else [])
    print_table(result["rows"], columns)
    if args.quick:
        print("(--quick: a smoke test; its numbers judge no target)")
    for line in result["targets"]:
        print(("(quick) " if args.quick else "") + line)
    write_json(result, args.out)
    print(f"\nwrote {args.out}")
    return result


if __name__ == "__main__":
    main()

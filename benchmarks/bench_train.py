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

By default the script runs twice, in two processes: once with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` set (as in the environment, else to this machine's ``Haswell``/``512``),
once with both unset (``--openblas set|unset`` for one of them). On a shared machine the
ratios measured side by side compare; re-measure absolute times on a quiet machine.

Usage::

    python benchmarks/bench_train.py                 # part (a), both OpenBLAS settings
    python benchmarks/bench_train.py --rounds 10     # fewer rounds (default 30)

Results: ``--out`` (default ``benchmarks/results/bench_train.json``, git-ignored).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import (  # noqa: E402
    RESULTS,
    add_blas_argument,
    interleaved_times,
    machine_info,
    print_table,
    run_under_blas_settings,
    summarize,
    warn_if_busy,
    write_json,
)

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (default 30)")
    parser.add_argument("--block", type=int, default=10,
                        help="consecutive steps timed together in a round (default 10)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON file to write")
    add_blas_argument(parser)
    args = parser.parse_args(argv)
    if args.openblas == "child":
        return run(args.rounds, args.block, args.out)
    results = run_under_blas_settings(
        __file__, ["--rounds", str(args.rounds), "--block", str(args.block)], args.openblas,
        args.out)
    print("\nsummary (ratio of medians to torch.nn, same process):")
    rows = [{"impl": f"{row['impl']} ({label})", "ratio_median": row["ratio_median"],
             "ratio_min": row["ratio_min"], "median_ms": row["median_ms"]}
            for label, result in results for row in result["rows"] if row["impl"] != "torch.nn"]
    print_table(rows, [("impl", "implementation (OpenBLAS)", ""), ("median_ms", "median ms", ".2f"),
                       ("ratio_median", "median/torch.nn", ".2f"),
                       ("ratio_min", "best/torch.nn", ".2f")])
    return results


if __name__ == "__main__":
    main()

"""The longer runs that lesson 5 quotes but cannot afford in its 60 seconds, measured side by side.

On the bundled MNIST split (8,000 training / 2,000 test digits), CPU, default threads, seed 0:

1. ``numpy``: the lesson's NumPy LeNet (``cnncourse.models.lenet``) with Adam (lr 1e-3), batch
   64, for ``--epochs`` epochs: the test error after each epoch (with its 95% interval), the
   training time to 97% and 98% test accuracy;
2. ``torch``: the same model and recipe in ``torch.nn``;
3. the fast-CPU recipe of lesson 5, one step at a time, each measured the same way (seconds of
   training per epoch, time to 98%, final accuracy):
   ``loader``  SGD + momentum 0.9, lr 0.05, batch 64, batches from a ``DataLoader`` (one example
               at a time, collated);
   ``tensor``  + the data kept as one tensor (fit slices it);
   ``batch256`` + batches of 256 (lr 0.1);
   ``onecycle`` + a one-cycle learning-rate schedule (max lr 0.1);
   ``adam``    Adam with the one-cycle schedule (max lr 3e-3) instead of SGD.

Usage::

    python benchmarks/bench_lesson05.py                  # all runs, 15 epochs each
    python benchmarks/bench_lesson05.py --epochs 4 --runs numpy torch

Results: ``--out`` (default ``benchmarks/results/bench_lesson05.json``, git-ignored). Times are
those of a shared machine unless it was quiet: compare the rows of one run with each other.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import RESULTS, machine_info, print_table, warn_if_busy, write_json  # noqa: E402

DEFAULT_OUT = RESULTS / "bench_lesson05.json"
RUNS = ("numpy", "torch", "loader", "tensor", "batch256", "onecycle", "adam")


def data():
    from cnncourse.data import load_mnist

    x, y = load_mnist("train")
    xt, yt = load_mnist("test")
    scale = lambda a: (a[:, None] / np.float32(255)).astype(np.float32)  # noqa: E731
    return scale(x), y, scale(xt), yt


def run_one(name, epochs, x, y, xt, yt):
    """Train one configuration; return its per-epoch test accuracy and training times."""
    from cnncourse import nn, optim
    from cnncourse.models import lenet
    from cnncourse.training import fit

    torch.manual_seed(0)
    nn.manual_seed(0)
    batch, scheduler, train = 64, None, (x, y)
    if name == "numpy":
        model = lenet("numpy")
        opt = optim.Adam(model.parameters(), lr=1e-3)
    else:
        model = lenet("torch")
        if name == "torch":
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        elif name in ("loader", "tensor"):
            opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        elif name in ("batch256", "onecycle"):
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            batch = 256
        else:  # adam
            opt = torch.optim.Adam(model.parameters(), lr=3e-3)
            batch = 256
        if name == "loader":
            train = torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(0))
        if name in ("onecycle", "adam"):
            steps = epochs * -(-len(y) // batch)
            opt_lr = 0.1 if name == "onecycle" else 3e-3
            scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=opt_lr, total_steps=steps)
    start = time.perf_counter()
    h = fit(model, train, (xt, yt), epochs=epochs, optimizer=opt, batch_size=batch,
            scheduler=scheduler, quiet=True)
    wall = time.perf_counter() - start

    def time_to(level):
        hit = np.flatnonzero(h["val_acc"] >= level)
        return float(h["elapsed"][hit[0]]) if len(hit) else None

    return dict(name=name, epochs=epochs, batch_size=batch, val_acc=h["val_acc"].tolist(),
                val_error_low=h["val_error_low"].tolist(), val_error_high=h["val_error_high"].tolist(),
                elapsed=h["elapsed"].tolist(), seconds_per_epoch=float(h["elapsed"][-1] / epochs),
                time_to_97=time_to(0.97), time_to_98=time_to(0.98), wall=wall,
                final_acc=float(h["val_acc"][-1]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    warn_if_busy()
    x, y, xt, yt = data()
    rows = []
    for name in args.runs:
        r = run_one(name, args.epochs, x, y, xt, yt)
        rows.append(r)
        fmt = lambda t: "-" if t is None else f"{t:.1f}"  # noqa: E731
        print(f"{name:>9}: s/epoch {r['seconds_per_epoch']:.2f}  to 97% {fmt(r['time_to_97'])} s  "
              f"to 98% {fmt(r['time_to_98'])} s  final {100 * r['final_acc']:.2f}%  "
              f"per epoch " + " ".join(f"{100 * a:.1f}" for a in r["val_acc"]), flush=True)
    fmt = lambda t: "-" if t is None else f"{t:.1f}"  # noqa: E731
    table = [dict(run=r["name"], spe=r["seconds_per_epoch"], t97=fmt(r["time_to_97"]),
                  t98=fmt(r["time_to_98"]),
                  acc=f"{100 * r['final_acc']:.2f}% [{100 * (1 - r['val_error_high'][-1]):.2f}, "
                      f"{100 * (1 - r['val_error_low'][-1]):.2f}]") for r in rows]
    print_table(table, [("run", "run", "s"), ("spe", "s/epoch", ".2f"), ("t97", "s to 97%", "s"),
                        ("t98", "s to 98%", "s"),
                        ("acc", f"test acc after {args.epochs} epochs [95% CI]", "s")])
    write_json({"machine": machine_info(), "threads": torch.get_num_threads(), "runs": rows}, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""What the benchmark scripts share: timing side by side, one table printer, one JSON writer,
the machine's description, and running a script under both OpenBLAS settings in one command.

This machine sets ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` (for old OpenBLAS builds); they
change NumPy's matrix products a lot (FACTS.md: ~212 vs ~397 GFLOP/s), and OpenBLAS reads them
when it loads, so a script is run once with both set and once with both removed, each in its own
process (:func:`run_under_blas_settings`).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["OPENBLAS_VARS", "OPENBLAS_MACHINE_VALUES", "interleaved_times", "summarize",
           "print_table", "write_json", "machine_info", "warn_if_busy", "add_blas_argument",
           "blas_settings", "run_under_blas_settings"]

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
RESULTS = Path(__file__).resolve().parent / "results"


def interleaved_times(fns: dict, rounds: int, warmup: int = 3, sync=None, block: int = 1,
                      settle: float = 0.0) -> dict:
    """Seconds per call of each function, measured in turn, round after round.

    Interleaving puts every function under the same load at the same moments, so their ratios
    stay meaningful on a machine that other programs share (absolute times do not). Each round
    times a ``block`` of consecutive calls of one function (their mean is one sample), after
    ``settle`` seconds of sleep and one untimed call: OpenBLAS's and OpenMP's worker threads
    keep spinning for a while after their last job, and without the pause the threads of the
    function timed before would take CPU time from the one timed now.

    Returns:
        ``{name: [seconds per call, ...]}``, one entry per round.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            if settle:
                time.sleep(settle)
                fn()
            if sync is not None:
                sync()
            start = time.perf_counter()
            for _ in range(block):
                fn()
            if sync is not None:
                sync()
            times[name].append((time.perf_counter() - start) / block)
    return times


def summarize(times: dict, reference: str) -> dict:
    """Median and minimum of each entry of :func:`interleaved_times`, and the ratios of both to
    those of ``reference``."""
    ref_med = statistics.median(times[reference])
    ref_min = min(times[reference])
    return {name: {"median_s": statistics.median(t), "min_s": min(t), "rounds": len(t),
                   "ratio_median": statistics.median(t) / ref_med, "ratio_min": min(t) / ref_min}
            for name, t in times.items()}


def print_table(rows: list, columns: list, file=None) -> None:
    """Print ``rows`` (dicts) as a table; ``columns`` is ``[(key, header, format), ...]``."""
    file = file or sys.stdout
    cells = [[format(row[key], fmt) if row.get(key) is not None else "-"
              for key, _, fmt in columns] for row in rows]
    widths = [max([len(header)] + [len(r[i]) for r in cells])
              for i, (_, header, _) in enumerate(columns)]
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                    for i, ((_, h, _), w) in enumerate(zip(columns, widths))), file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for r in cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))), file=file)


def write_json(result: dict, path) -> Path:
    """Write ``result`` as indented JSON (folders made as needed); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=str))
    return path


def machine_info() -> dict:
    import numpy as np
    import torch

    return {
        "platform": platform.platform(), "processor": platform.processor(),
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "load_average_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "openblas_env": {k: os.environ.get(k) for k in OPENBLAS_VARS},
    }


def warn_if_busy() -> None:
    """Say so when other programs keep the CPUs busy (times are then slower and noisier)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load is not None and load > 0.5 * (os.cpu_count() or 1):
        print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs -- other programs are "
              f"running; ratios measured side by side still compare, absolute times do not.\n")


# The values this machine sets (FACTS.md); used for the "set" run when the environment of the
# command lacks them, so that one command always measures both settings.
OPENBLAS_MACHINE_VALUES = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512"}


def add_blas_argument(parser) -> None:
    parser.add_argument(
        "--openblas", choices=["both", "set", "unset", "child"], default="both",
        help="run with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE set (their values in the environment, "
             "else this machine's Haswell/512), with both unset, or both, one process each "
             "(default: both; \"child\" is internal)")


def blas_settings(settings: str = "both") -> list:
    """``[(label, environment), ...]`` for ``"set"``, ``"unset"`` or ``"both"``: the current
    environment with :data:`OPENBLAS_VARS` set (kept if present, else
    :data:`OPENBLAS_MACHINE_VALUES`) or removed."""
    base = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
    chosen = {k: os.environ.get(k, OPENBLAS_MACHINE_VALUES[k]) for k in OPENBLAS_VARS}
    runs = [("set", {**base, **chosen}), ("unset", base)]
    return [run for run in runs if settings in ("both", run[0])]


def run_under_blas_settings(script: str, argv: list, settings: str, out) -> list:
    """Run ``script argv`` once per OpenBLAS setting (:func:`blas_settings`), each in a child
    process writing its own JSON; OpenBLAS reads the variables only when it loads.

    Returns:
        ``[(label, result dict), ...]``; the combined JSON (``{label: result}``) goes to ``out``
        (unless ``out`` is None).
    """
    results = []
    for label, env in blas_settings(settings):
        shown = ", ".join(f"{k}={env[k]}" for k in OPENBLAS_VARS) if label == "set" \
            else "both unset"
        print(f"\n===== OpenBLAS {label} ({shown}) =====", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            child_out = Path(tmp) / "result.json"
            subprocess.run([sys.executable, script, *argv, "--openblas", "child",
                            "--out", str(child_out)], env=env, check=True)
            results.append((label, json.loads(child_out.read_text())))
    if out is not None:
        write_json({label: result for label, result in results}, out)
        print(f"\nwrote {out}")
    return results

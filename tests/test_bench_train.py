"""Tests for benchmarks/bench_train.py: part (a)'s implementations do the same work (same
weights, same batch, the same SGD update); the shared helpers of benchmarks/_bench.py; parts
(b)-(d) (benchmarks/_fit_runs.py): which runs are made, how a row and the targets are read from
a run's history, and one small real run."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import _bench  # noqa: E402
import bench_train  # noqa: E402


def test_every_step_computes_the_same_loss_and_update():
    steps = bench_train.step_functions()
    first = {name: steps[name]() for name in ("torch.nn", "numpy", "torch_ops")}
    second = {name: steps[name]() for name in first}            # after one identical update
    third = {"torch.nn": steps["torch.nn"](), "numpy+grad_x": steps["numpy+grad_x"]()}
    for losses in (first, second, third):
        reference = losses["torch.nn"]
        for name, loss in losses.items():
            assert loss == pytest.approx(reference, rel=1e-5), (name, losses)
    assert second["torch.nn"] < first["torch.nn"]              # the update did something


def test_blas_settings_set_and_unset_both_variables(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "1024")
    runs = dict(_bench.blas_settings("both"))
    assert list(runs) == ["set", "unset"]
    assert runs["set"]["OPENBLAS_CORETYPE"] == "Haswell"        # this machine's value
    assert runs["set"]["OPENBLAS_L2_SIZE"] == "1024"            # the environment's value
    assert not set(_bench.OPENBLAS_VARS) & set(runs["unset"])
    assert [label for label, _ in _bench.blas_settings("unset")] == ["unset"]


def test_interleaved_times_times_every_function_in_blocks():
    calls = []
    times = _bench.interleaved_times({"a": lambda: calls.append("a"),
                                      "b": lambda: calls.append("b")},
                                     rounds=2, warmup=1, block=3, settle=0.001)
    assert {name: len(t) for name, t in times.items()} == {"a": 2, "b": 2}
    # warm-up, then per round and function: one untimed call after the pause and the block.
    assert calls == ["a", "b"] + (["a"] * 4 + ["b"] * 4) * 2
    summary = _bench.summarize(times, reference="a")
    assert summary["a"]["ratio_median"] == 1.0 and summary["b"]["rounds"] == 2


# ------------------------------ parts (b)-(d): training runs ------------------------------

import _fit_runs  # noqa: E402


def test_training_runs_cover_both_blas_settings_the_seeds_and_cuda():
    runs = _fit_runs.training_runs(quick=False, blas=["set", "unset"], cuda=False)
    numpy_runs = [r for r in runs if r["backend"] == "numpy"]
    assert [r["blas"] for r in numpy_runs] == ["set", "unset"]
    best = [r for r in runs if r["recipe"] == _fit_runs.TARGETS["torch"][0]]
    assert [r["seed"] for r in best] == [0, 1, 2]
    assert all(r["epochs"] == _fit_runs.RECIPES[r["recipe"]]["epochs"] for r in runs)
    assert {r["device"] for r in runs} == {"cpu"}
    with_cuda = _fit_runs.training_runs(quick=True, blas=["set"], cuda=True)
    assert {r["epochs"] for r in with_cuda} == {2}
    cuda = [r for r in with_cuda if r["device"] == "cuda"]
    assert cuda and all(r["backend"] == "torch" for r in cuda)


def _row(backend, recipe, seed, accuracies, seconds=10.0, rss=300.0, blas="set"):
    """A table row from a made-up history: one epoch per accuracy, ``seconds`` each."""
    epochs = [{"epoch": i + 1, "val_acc": a, "elapsed": seconds * (i + 1),
               "cpu_time": 2 * seconds * (i + 1), "train_loss": 1.0, "eval_time": 0.5}
              for i, a in enumerate(accuracies)]
    spec = dict(backend=backend, recipe=recipe, seed=seed, device="cpu", blas=blas,
                epochs=len(epochs))
    return _fit_runs.summarize_run(spec, {"epochs": epochs, "peak_rss_mib": rss,
                                          "torch_threads": 2, "load_average_1min": 0.1})


def test_a_row_gives_the_first_epoch_reaching_each_accuracy_and_the_final_one():
    row = _row("numpy", "LeNet", 0, [0.97, 0.982, 0.979, 0.986, 0.984])
    assert (row["t980_s"], row["t985_s"], row["t990_s"]) == (20.0, 40.0, None)
    assert row["t980_cpu_s"] == 40.0
    assert row["final_acc"] == pytest.approx(98.4) and row["best_acc"] == pytest.approx(98.6)
    assert row["train_s"] == 50.0 and row["cpu_s"] == 100.0 and row["eval_s"] == 2.5
    assert row["part"] == "b" and "unset" not in row["run"]


def test_targets_take_the_median_over_seeds_and_count_a_miss_as_never():
    best = _fit_runs.TARGETS["torch"][0]
    numpy_rows = [_row("numpy", "LeNet", 0, [0.98, 0.986], seconds=14, blas=b)
                  for b in ("set", "unset")]
    met = numpy_rows + [_row("torch", best, s, acc, seconds=20) for s, acc in
                        enumerate([[0.98, 0.991], [0.98, 0.985, 0.99], [0.98, 0.989]])]
    lines = _fit_runs.targets(met)
    assert lines[0].startswith("NumPy LeNet >= 98.5%") and ": met (slowest 28.0 s" in lines[0]
    assert ": met (median 60.0 s" in lines[1] and "never (seed 2" in lines[1]
    assert lines[2].startswith("peak memory <= 1 GiB in every run: met")
    missed = numpy_rows[:1] + [_row("numpy", "LeNet", 0, [0.98, 0.984], blas="unset")] + \
        [_row("torch", best, s, [0.991], seconds=61, rss=2000) for s in range(3)]
    lines = _fit_runs.targets(missed)
    assert all("NOT met" in line for line in lines), lines
    assert "slowest never" in lines[0] and "median 61.0 s" in lines[1] and "2000 MiB" in lines[2]


def test_a_small_numpy_training_run_reports_its_epochs_and_memory():
    result = _fit_runs.train_once(dict(backend="numpy", recipe="LeNet", seed=0, device="cpu",
                                       epochs=2, limit=500))
    assert [e["epoch"] for e in result["epochs"]] == [1, 2]
    assert result["epochs"][-1]["val_acc"] > 0.5            # it learned something
    assert result["epochs"][-1]["elapsed"] > result["epochs"][0]["elapsed"] > 0
    assert 50 < result["peak_rss_mib"] < 4096


def test_step_rows_and_their_target_come_from_each_blas_setting():
    child = {"rows": [{"impl": "torch.nn", "median_ms": 3.0, "min_ms": 2.5, "ratio_median": 1.0,
                       "ratio_min": 1.0},
                      {"impl": "numpy", "median_ms": 6.0, "min_ms": 3.0, "ratio_median": 2.0,
                       "ratio_min": 1.2}]}
    faster = {"rows": [dict(child["rows"][1], ratio_median=1.4)]}
    rows = bench_train.step_rows([("set", child), ("unset", faster)])
    assert [r["run"] for r in rows] == ["step torch.nn (set OpenBLAS)", "step numpy (set OpenBLAS)",
                                        "step numpy (unset OpenBLAS)"]
    lines = bench_train.step_targets(rows)
    assert "(set OpenBLAS): NOT met (2.00x" in lines[0]
    assert "(unset OpenBLAS): met (1.40x" in lines[1]

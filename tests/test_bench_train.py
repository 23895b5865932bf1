"""Tests for benchmarks/bench_train.py part (a): the implementations it times do the same work
(same weights, same batch, the same SGD update), and the shared helpers of benchmarks/_bench.py."""
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

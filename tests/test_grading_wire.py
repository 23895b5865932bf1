"""The one wire format (cnncourse.grading.wire): round trips, and hard caps on whatever a kernel
writes (bytes, elements, nesting, integer size...), each of which makes only that exercise an
``error`` (cnncourse.grading.transport.ResultsError)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cnncourse.checks.core import make_case
from cnncourse.grading import kernel_harness, wire
from cnncourse.grading.transport import ResultsError, encode_cases, read_results

CASES = [make_case("one", np.arange(3.0))]
_CASE0 = {"case": 0, "error": None, "args": [{"k": "array", "dtype": "<f8", "shape": [3], "nbytes": 24}],
          "kwargs": {}}
_ARG = np.arange(3.0).tobytes()


def _rec(header, blob=b""):
    data = json.dumps(header).encode()
    return b"%d\n" % len(data) + data + blob


def _results(value_spec, blob=b"", tmp_path=None):
    data = _rec({"start": 0}) + _rec({**_CASE0, "value": value_spec}, blob + _ARG) + _rec({"done": 1})
    (tmp_path / "r").write_bytes(data)
    return read_results(tmp_path / "r", CASES)


def _nested(depth):
    spec = {"k": "int", "v": "1"}
    for _ in range(depth):
        spec = {"k": "tuple", "items": [spec]}
    return spec


@pytest.mark.parametrize("spec, blob, why", [
    ({"k": "array", "dtype": "<f8", "shape": [2**23], "nbytes": 8}, bytes(8), "elements"),
    ({"k": "array", "dtype": "<f8", "shape": [2**12, 2**12, 2], "nbytes": 8}, bytes(8), "elements"),
    ({"k": "array", "dtype": "|O", "shape": [1], "nbytes": 8}, bytes(8), "unsupported dtype"),
    ({"k": "array", "dtype": "|V8", "shape": [1], "nbytes": 8}, bytes(8), "unsupported dtype"),
    ({"k": "array", "dtype": "<f8", "shape": [2], "nbytes": 8}, bytes(8), "does not match its shape"),
    (_nested(9), b"", "nested"),
    ({"k": "tuple", "items": [{"k": "none"}] * 10_001}, b"", "too long"),
    ({"k": "int", "v": "9" * 500}, b"", "short string"),
    ({"k": "int", "v": "--5"}, b"", "bad int"),
    ({"k": "float", "v": "1e99999999999999999999999999999999999999999999999999999999999999999"}, b"", "short"),
    ({"k": "str", "v": "x" * 5000}, b"", "short string"),
    ({"k": "other", "module": "m", "qualname": "q" * 300}, b"", "short string"),
    ({"k": "pickle"}, b"", "unknown value kind"),
    ({"k": "dict", "keys": ["a", "b"], "items": [{"k": "none"}]}, b"", "bad or too long dict"),
    ({"k": "dict", "keys": ["a", "a"], "items": [{"k": "none"}] * 2}, b"", "repeated keys"),
    ({"k": "dict", "keys": [1], "items": [{"k": "none"}]}, b"", "short string"),
])
def test_values_over_a_cap_are_refused(spec, blob, why, tmp_path):
    with pytest.raises(ResultsError, match=why):
        _results(spec, blob, tmp_path)


def test_the_values_budget_of_a_record_is_shared(tmp_path):
    wide = {"k": "list", "items": [{"k": "list", "items": [{"k": "none"}] * 10_000}] * 6}
    with pytest.raises(ResultsError, match="more values than the cap"):
        _results(wide, b"", tmp_path)


@pytest.mark.parametrize("data, why", [
    (b"2000000\n{}", "header of 2000000 bytes"),
    (b"9999999999999\n", "bad record length"),
    (b"12\n" + b"[" * 12, "not JSON"),
    (_rec({"start": 0}) + b"[" * 100, "bad record length"),
])
def test_records_over_a_cap_are_refused(data, why, tmp_path):
    (tmp_path / "r").write_bytes(data)
    with pytest.raises(ResultsError, match=why):
        read_results(tmp_path / "r", CASES)


def test_a_results_file_over_the_byte_cap_is_refused_unread(tmp_path):
    with open(tmp_path / "r", "wb") as f:
        f.truncate(2**27)  # sparse
    with pytest.raises(ResultsError, match="more than the grader's limit"):
        read_results(tmp_path / "r", CASES)


def test_results_that_are_no_regular_file_are_refused(tmp_path):
    (tmp_path / "r").symlink_to("/dev/zero")
    with pytest.raises(ResultsError, match="symbolic link"):
        read_results(tmp_path / "r", CASES)


def test_the_kernel_side_never_sends_what_breaks_a_cap():
    """What the format cannot carry is described by its type, not sent (and never fails)."""
    blobs = []
    assert wire.encode(np.zeros(2**23), blobs)["k"] == "big" and blobs == []
    assert wire.encode(10 ** 5000, blobs) == {"k": "bigint", "bits": (10 ** 5000).bit_length()}
    nested = 1
    for _ in range(20):
        nested = (nested,)
    assert "other" in json.dumps(wire.encode(nested, blobs))
    assert wire.encode([0] * 20_000, blobs)["k"] == "other"
    budget = [5, 100]
    spec = wire.encode([1, 2, 3, 4, 5, 6, 7], [], budget=budget)
    assert [s["k"] for s in spec["items"]].count("other") == 3


def test_big_values_arrive_as_named_stand_ins(tmp_path):
    results = _results({"k": "big", "nbytes": 2**28}, b"", tmp_path)
    assert results.too_large and results.done
    assert "too large to check" in results.outcomes[0].output_type
    results = _results({"k": "bigint", "bits": 16000}, b"", tmp_path)
    assert results.outcomes[0].output_type == "int (too large to show: 16000 bits)"


def test_cases_and_results_use_the_same_format_both_ways(tmp_path):
    """The cases file the grader writes is read in the kernel with the same module."""
    cases = [make_case("mixed", np.arange(4, dtype=np.int16).reshape(2, 2), (1, 2), [3.5, None],
                       flag=True, name="x", scalar=np.float32(1.5))]
    reader = wire.Reader(encode_cases(cases))
    assert reader.next() == {"cases": 1}
    header = reader.next()
    args = [wire.decode(s, reader) for s in header["args"]]
    kwargs = {k: wire.decode(s, reader) for k, s in header["kwargs"].items()}
    assert args[0].dtype == np.int16 and args[0].tolist() == [[0, 1], [2, 3]]
    assert args[1:] == [(1, 2), [3.5, None]]
    assert kwargs["flag"] is True and kwargs["name"] == "x" and type(kwargs["scalar"]) is np.float32
    params = {"conv.weight": np.ones((2, 1, 3, 3)), "conv.bias": np.zeros(2)}  # lesson 4's params
    reader = wire.Reader(encode_cases([make_case("dict", params, nested={"k": (1, {"j": None})})]))
    reader.next()
    header = reader.next()
    (back,), nested = [wire.decode(s, reader) for s in header["args"]], wire.decode(
        header["kwargs"]["nested"], reader)
    assert list(back) == list(params) and all(np.array_equal(back[k], params[k]) for k in params)
    assert nested == {"k": (1, {"j": None})}
    assert wire.encode({1: 2}, [])["k"] == "other"  # only string keys are carried
    with pytest.raises(TypeError, match="does not carry"):
        encode_cases([make_case("object", object())])


def test_the_harness_sources_are_read_once_at_import(monkeypatch):
    """What the kernel runs is what the grader read when it started, whatever changes on disk."""
    code = kernel_harness.bootstrap_code("m")
    monkeypatch.setattr(kernel_harness, "_source", lambda name: "raise SystemExit")
    assert kernel_harness.bootstrap_code("m") == code
    assert repr(kernel_harness._SOURCES[0])[1:60] in code

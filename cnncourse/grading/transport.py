"""Moving cases into the learner's kernel and outcomes back out, as plain data only.

The grader writes an exercise's cases to a file (a JSON description of the calls, then the
arrays' raw bytes; no pickle) that :mod:`~cnncourse.grading.kernel_harness` reads inside the
kernel with functions it captured before any learner code ran. The kernel writes a results file
that :func:`read_results` parses here with strict checks: every field's type, every array's
``dtype`` (no object arrays), shape and byte count. It never unpickles, never imports anything
named by the kernel and never calls a method of a learner object. The parsed values are turned
into the checks' :class:`Outcome` objects with :func:`cnncourse.checks.call_case` itself
(replaying the recorded return value or exception), so the batch grader records outcomes exactly
as a notebook's ``check`` does.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..checks.core import Case, Outcome, array_inputs, call_case

__all__ = ["encode_cases", "read_results", "Results", "ResultsError"]

_MAX_HEADER = 1 << 20


class ResultsError(ValueError):
    """The results file written by the kernel is malformed (so nothing in it is trusted)."""


def _spec(value, arrays: list) -> dict:
    if isinstance(value, (np.ndarray, np.generic)):
        arrays.append(np.array(value, order="C"))
        return {"k": "array" if isinstance(value, np.ndarray) else "scalar", "ref": len(arrays) - 1}
    if isinstance(value, bool):
        return {"k": "bool", "v": value}
    if isinstance(value, int):
        return {"k": "int", "v": repr(value)}
    if isinstance(value, float):
        return {"k": "float", "v": repr(value)}
    if isinstance(value, str):
        return {"k": "str", "v": value}
    if value is None:
        return {"k": "none"}
    if isinstance(value, (tuple, list)):
        return {"k": type(value).__name__, "items": [_spec(v, arrays) for v in value]}
    raise TypeError(f"a case may hold only arrays, numbers, strings, tuples and None, not {type(value)}")


def encode_cases(cases: list[Case]) -> bytes:
    """The cases file :mod:`kernel_harness` reads: ``b"<n>\\n"``, an ``n``-byte JSON header
    (the call structure, and per array its ``dtype``, ``shape``, ``offset``, ``count``), then the
    arrays' raw bytes. No pickle: object arrays are refused."""
    arrays: list[np.ndarray] = []
    spec = [{"args": [_spec(a, arrays) for a in case.args],
             "kwargs": {k: _spec(v, arrays) for k, v in case.kwargs.items()}} for case in cases]
    table, offset = [], 0
    for a in arrays:
        if a.dtype.hasobject:
            raise TypeError("a case may not hold object arrays")
        table.append({"dtype": a.dtype.str, "shape": list(a.shape), "offset": offset,
                      "count": int(a.size)})
        offset += a.nbytes
    header = json.dumps({"cases": spec, "arrays": table}).encode()
    return b"%d\n" % len(header) + header + b"".join(a.tobytes() for a in arrays)


@dataclass
class Results:
    """What one exercise's results file says.

    ``outcomes`` holds one :class:`Outcome` per case that finished; ``running`` is the index of
    the case that started but never finished (the kernel hung or died there), else ``None``;
    ``done`` is True when every case ran; ``missing`` / ``not_callable`` report a learner
    function that is not defined / not a function (``not_callable`` is the type's name).
    """

    outcomes: list[Outcome] = field(default_factory=list)
    running: int | None = None
    interrupted: bool = False
    done: bool = False
    missing: str | None = None
    not_callable: str | None = None


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ResultsError(what)


def _text(value, limit: int = 5000) -> str:
    _expect(isinstance(value, str) and len(value) <= limit, "a text field is not a short string")
    return value


def _placeholder(module, qualname):
    """A stand-in object whose type has the learner's type name (``record_value`` reports it)."""
    module, qualname = _text(module, 200), _text(qualname, 200)
    cls = type("Returned", (), {"__module__": module, "__qualname__": qualname})
    return cls()


class _CutShort(Exception):
    """An array's bytes end before their announced size: the record was cut short."""


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def record(self):
        if self.pos >= len(self.data):
            return None
        end = self.data.find(b"\n", self.pos, self.pos + 20)
        if end < 0:
            return None  # a record cut short by a dying kernel
        try:
            n = int(self.data[self.pos:end])
        except ValueError:
            raise ResultsError("bad record length") from None
        _expect(0 < n <= _MAX_HEADER, "bad record length")
        if end + 1 + n > len(self.data):
            return None  # cut short
        try:
            header = json.loads(self.data[end + 1:end + 1 + n].decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ResultsError("a record header is not JSON") from None
        _expect(isinstance(header, dict), "a record header is not an object")
        self.pos = end + 1 + n
        return header

    def blob(self, nbytes) -> bytes:
        _expect(type(nbytes) is int and nbytes >= 0, "bad blob size")
        if nbytes > len(self.data) - self.pos:
            raise _CutShort  # the kernel died or hit the file size limit while writing it
        blob = self.data[self.pos:self.pos + nbytes]
        self.pos += nbytes
        return blob

    def value(self, spec, depth: int = 0):
        _expect(isinstance(spec, dict) and depth <= 10, "bad value description")
        kind = spec.get("k")
        if kind in ("array", "scalar"):
            dtype_str = _text(spec.get("dtype"), 40)
            try:
                dtype = np.dtype(dtype_str)
            except (TypeError, ValueError):
                raise ResultsError(f"unknown dtype {dtype_str!r}") from None
            _expect(not dtype.hasobject and dtype.itemsize > 0, "object or empty dtype")
            shape = spec.get("shape", []) if kind == "array" else []
            _expect(isinstance(shape, list) and len(shape) <= 32
                    and all(type(n) is int and n >= 0 for n in shape), "bad shape")
            blob = self.blob(spec.get("nbytes"))
            _expect(len(blob) == int(np.prod(shape, dtype=np.int64)) * dtype.itemsize,
                    "array byte count does not match its shape")
            array = np.frombuffer(blob, dtype=dtype).reshape(shape).copy()
            if kind == "array":
                return array
            if spec.get("module") == "numpy":
                return array[()]
            return _placeholder(spec.get("module"), spec.get("qualname"))
        if kind == "objarray":
            shape = spec.get("shape")
            _expect(isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)
                    and int(np.prod(shape, dtype=np.int64)) <= 1 << 20, "bad shape")
            return np.empty(shape, dtype=object)
        if kind in ("tuple", "list"):
            items = spec.get("items")
            _expect(isinstance(items, list), "bad sequence")
            values = [self.value(s, depth + 1) for s in items]
            return tuple(values) if kind == "tuple" else values
        if kind == "int":
            return int(_text(spec.get("v"), 5000))
        if kind == "float":
            try:
                return float(_text(spec.get("v"), 64))
            except ValueError:
                raise ResultsError("bad float") from None
        if kind == "bool":
            _expect(type(spec.get("v")) is bool, "bad bool")
            return spec["v"]
        if kind == "str":
            return _text(spec.get("v"))
        if kind == "none":
            return None
        if kind == "other":
            return _placeholder(spec.get("module"), spec.get("qualname"))
        raise ResultsError(f"unknown value kind {kind!r}")


def _replay(case: Case, header: dict, reader: _Reader) -> Outcome:
    error = header.get("error")
    value = reader.value(header.get("value"))
    args = header.get("args")
    kwargs = header.get("kwargs")
    _expect(isinstance(args, list) and isinstance(kwargs, dict), "bad inputs")
    args_after = tuple(reader.value(s) for s in args)
    kwargs_after = {_text(k, 200): reader.value(s) for k, s in kwargs.items()}
    if error is not None:
        _expect(isinstance(error, list) and len(error) == 2, "bad error")
        name, message = _text(error[0], 200), _text(error[1])
        raised = type(name, (Exception,), {})(message)

    def replay(*_args, **_kwargs):
        if error is not None:
            raise raised
        return value

    outcome = call_case(replay, case)
    after = Case(case.label, args_after, kwargs_after, case.size)
    outcome.inputs_after = tuple(a for _, a in array_inputs(after))
    return outcome


def read_results(path: str | Path, cases: list[Case], max_bytes: int = 1 << 30) -> Results:
    """Parse the results file the kernel wrote for ``cases`` (a missing file reads as empty)."""
    path = Path(path)
    results = Results()
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        return results
    _expect(len(data) <= max_bytes, f"the results are larger than {max_bytes} bytes")
    reader = _Reader(data)
    while (header := reader.record()) is not None:
        if "missing" in header:
            results.missing = _text(header["missing"])
        elif "not_callable" in header:
            parts = header["not_callable"]
            _expect(isinstance(parts, list) and len(parts) == 2, "bad type name")
            results.not_callable = ".".join(_text(p, 200) for p in parts if p not in ("builtins", "__main__"))
        elif "start" in header:
            _expect(header["start"] == len(results.outcomes) < len(cases), "cases out of order")
            results.running = header["start"]
        elif "case" in header:
            i = header["case"]
            _expect(i == results.running, "a result for a case that did not start")
            try:
                results.outcomes.append(_replay(cases[i], header, reader))
            except _CutShort:  # like a header cut short: case i started and never finished
                break
            results.running = None
        elif "interrupted" in header:
            results.interrupted = True
        elif "done" in header:
            _expect(header["done"] == len(cases) == len(results.outcomes), "results incomplete")
            results.done = True
        else:
            raise ResultsError("unknown record")
    return results

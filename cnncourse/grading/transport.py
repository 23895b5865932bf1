"""Cases into the learner's kernel, outcomes back out: the grader's side of :mod:`wire`.

:func:`encode_cases` writes an exercise's cases as a wire stream (a ``{"cases": n}`` record,
then one record per case). :func:`read_results` reads the results file the kernel wrote, with a
bounded read and the wire format's caps: any malformed or over-cap record raises
:class:`ResultsError` (that exercise is then graded ``error``). Decoded values are turned into
the checks' :class:`~cnncourse.checks.Outcome` objects by :func:`cnncourse.checks.call_case`
itself, replaying the recorded return value or exception, so the batch grader records outcomes
exactly as a notebook's ``check`` does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..checks import Case, Outcome, call_case
from . import wire
from .submissions import read_regular

__all__ = ["encode_cases", "read_results", "Results", "ResultsError", "MAX_RESULTS_BYTES"]

#: The most bytes of one exercise's results file that the grader reads.
MAX_RESULTS_BYTES = 1 << 26


class ResultsError(ValueError):
    """The results file written by the kernel is malformed (so nothing in it is trusted)."""


def encode_cases(cases: list[Case]) -> bytes:
    """The cases file :mod:`kernel_harness` reads (arrays, numbers, strings, tuples, lists, None)."""
    out = [wire.record({"cases": len(cases)})]
    for case in cases:
        blobs: list[bytes] = []
        specs = [wire.encode(a, blobs) for a in case.args]
        kwargs = {k: wire.encode(v, blobs) for k, v in case.kwargs.items()}
        if any(s["k"] in ("other", "objarray", "big", "bigint") for s in _walk([*specs, *kwargs.values()])):
            raise TypeError(f"case {case.label!r} holds a value the wire format does not carry")
        out.append(wire.record({"args": specs, "kwargs": kwargs}, blobs))
    return b"".join(out)


def _walk(specs):
    for s in specs:
        yield s
        yield from _walk(s.get("items", ()))


@dataclass
class Results:
    """What one exercise's results file says.

    ``outcomes`` holds one :class:`Outcome` per case that finished; ``running`` is the index of
    the case that started but never finished (the kernel hung or died there), else ``None``;
    ``done`` is True when every case ran; ``missing`` / ``not_callable`` report a learner
    function that is not defined / not a function (``not_callable`` is the type's name);
    ``too_large`` is True when an output was over the wire format's size caps.
    """

    outcomes: list[Outcome] = field(default_factory=list)
    running: int | None = None
    interrupted: bool = False
    done: bool = False
    missing: str | None = None
    not_callable: str | None = None
    too_large: bool = False


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ResultsError(what)


def _replay(case: Case, header: dict, reader: wire.Reader) -> Outcome:
    error = header.get("error")
    value = wire.decode(header.get("value"), reader)
    args, kwargs = header.get("args"), header.get("kwargs")
    _expect(type(args) is list and type(kwargs) is dict and len(args) == len(case.args)
            and set(kwargs) == set(case.kwargs), "the inputs do not match the case")
    after = [wire.decode(s, reader) for s in args]
    after_kw = {k: wire.decode(s, reader) for k, s in kwargs.items()}
    if error is not None:
        _expect(type(error) is list and len(error) == 2, "bad error")
        name, message = (wire._text(e, wire.CAPS.text) for e in error)
        raised = type(name[:200].replace("\x00", "?"), (Exception,), {})(message)

    def replay(*copies, **copies_kw):
        # call_case passes fresh copies of the case's inputs: make them what the learner's
        # function left them as, so that call_case itself sees any change made in place.
        for copy, state in (*zip(copies, after), *((copies_kw.get(k), v) for k, v in after_kw.items())):
            if isinstance(copy, np.ndarray) and isinstance(state, np.ndarray) and copy.size == state.size:
                np.copyto(copy, state.reshape(copy.shape), casting="unsafe")
            elif isinstance(copy, np.ndarray) and copy.size and copy.dtype.kind in "fc":
                copy[...] = np.nan  # reshaped or replaced: changed, whatever it holds now
        if error is not None:
            raise raised
        return value

    return call_case(replay, case)


def read_results(path: str | Path, cases: list[Case], max_bytes: int = MAX_RESULTS_BYTES) -> Results:
    """Parse the results file the kernel wrote for ``cases`` (a missing file reads as empty)."""
    results = Results()
    try:  # the kernel's folder is the kernel's: no link, FIFO or device is read from it
        data = read_regular(Path(path), max_bytes)
    except FileNotFoundError:
        return results
    except (OSError, ValueError) as exc:
        raise ResultsError(str(exc)) from None
    reader = wire.Reader(data)
    try:
        while (header := reader.next()) is not None:
            if "missing" in header:
                results.missing = wire._text(header["missing"], 500)
            elif "not_callable" in header:
                parts = header["not_callable"]
                _expect(type(parts) is list and len(parts) == 2, "bad type name")
                results.not_callable = ".".join(wire._text(p, 200) for p in parts
                                                if p not in ("builtins", "__main__"))
            elif "start" in header:
                _expect(header["start"] == len(results.outcomes) < len(cases), "cases out of order")
                results.running = header["start"]
            elif "case" in header:
                i = header["case"]
                _expect(i == results.running, "a result for a case that did not start")
                try:
                    results.outcomes.append(_replay(cases[i], header, reader))
                except wire.CutShort:  # like a header cut short: case i started, never finished
                    break
                results.too_large |= reader.big
                results.running = None
            elif "interrupted" in header:
                results.interrupted = True
            elif "done" in header:
                _expect(header["done"] == len(cases) == len(results.outcomes), "results incomplete")
                results.done = True
            else:
                raise ResultsError("unknown record")
    except (wire.WireError, RecursionError, MemoryError) as exc:
        raise ResultsError(str(exc) or type(exc).__name__) from None
    return results

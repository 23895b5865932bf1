"""Turning outcomes into a diagnosis: compare, find the likely mistake, explain it.

:func:`diagnose` judges every case against the trusted reference, then names the most likely
mistake, in this order:

1. ``not_implemented`` — the stub still raises ``NotImplementedError``;
2. ``input_modified`` — an input array was changed in place;
3. a known wrong implementation (``Exercise.variants``, e.g. ``kernel_flipped``) — **named only
   when it reproduces the learner's result on a clear majority of the failing cases: at least
   two thirds of them** (:data:`MAJORITY`). A case is reproduced when the mistake gives the
   learner's output (or raises the same type of error); the variants of one key count together,
   and on at least one case the mistake must show (give an output that differs from the
   expected one). A mistake that explains one or two cases out of many is a guess, so then the
   generic diagnosis below is given instead;
4. ``not_ndarray`` / ``not_int`` — the function returned the wrong kind of object;
5. on the smallest failing case: ``wrong_dtype`` (values right, dtype wrong), ``h_w_swapped``
   (height and width of the output swapped), ``output_size_off_by_one`` / ``wrong_shape``,
   ``raised`` (an exception), ``wrong_values``.

The message then shows the smallest failing case — cases are ranked by the size of their input
and of their expected output together — printed whole, and what to look at.
"""
from __future__ import annotations

import numbers
import sys
import textwrap
from fractions import Fraction

import numpy as np

from .core import Case, Exercise, Outcome, Verdict, array_inputs

__all__ = ["GENERIC", "MAJORITY", "diagnose", "same", "format_value", "format_case", "compose",
           "not_done"]

MAJORITY = Fraction(2, 3)  # of the failing cases a variant must reproduce to be named

# key: (title, default hint)
GENERIC = {
    "not_implemented": (
        "not done yet: the function still raises NotImplementedError",
        "replace the line `raise NotImplementedError(...)` in the cell above with your code, "
        "run that cell, then run this check again.",
    ),
    "not_ndarray": (
        "the function does not return a plain NumPy array",
        "return an np.ndarray: build the result with np.zeros / np.empty (or any NumPy "
        "operation) and return it — not a list, not np.matrix, not another array type.",
    ),
    "not_int": (
        "the function does not return an int",
        "return a Python int: use floor division `//`, not `/` (which gives a float) or "
        "math.ceil.",
    ),
    "input_modified": (
        "an input array is modified in place",
        "never write into the arguments: `x -= ...`, `x[...] = ...` or `np.pad(..., out=x)` "
        "change the caller's array. Work on a copy (`x = x.copy()` or `x = x - ...`).",
    ),
    "wrong_dtype": (
        "the output has the wrong dtype",
        "the output's dtype must follow the input's: create the output with "
        "`np.zeros(shape, dtype=x.dtype)` (np.zeros alone gives float64), or convert with "
        "`.astype(...)` at the end.",
    ),
    "h_w_swapped": (
        "the output's height and width are swapped",
        "the output is (..., OH, OW): rows (height) first, then columns (width). Compute OH from "
        "H and OW from W, and write out[..., i, j] with i the row and j the column.",
    ),
    "output_size_off_by_one": (
        "the output size is off by one",
        "count the window positions: along one axis there are "
        "floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1 of them — "
        "check the `+ 1` and the end of your range().",
    ),
    "wrong_shape": (
        "the output has the wrong shape",
        "write down the expected output shape from the input shapes before coding; check the "
        "order of the axes and the size formula.",
    ),
    "raised": (
        "the function raises an error",
        "run your function by hand on the case below and read the traceback.",
    ),
    "wrong_values": (
        "the output has the right shape but wrong values",
        "compute the expected output of the small case below by hand, then compare with "
        "yours element by element to find the first one that differs.",
    ),
}

_TOLERANCE = {"f2": 1e-2, "f4": 1e-4, "f8": 1e-8}


def _tol(*dtypes) -> float:
    return max(_TOLERANCE.get(f"{d.kind}{d.itemsize}", 0.0) for d in dtypes)


def same(actual, expected) -> bool:
    """Whether two outputs agree: same shape and values (to a tolerance set by the coarser of
    the two dtypes; the dtypes themselves are not compared), numbers equal, tuples item-wise,
    dicts key by key."""
    if isinstance(expected, tuple):
        return (isinstance(actual, tuple) and len(actual) == len(expected)
                and all(same(a, e) for a, e in zip(actual, expected)))
    if isinstance(expected, dict):  # e.g. lesson 4's params: key by key
        return (isinstance(actual, dict) and actual.keys() == expected.keys()
                and all(same(actual[k], e) for k, e in expected.items()))
    if isinstance(expected, np.ndarray):
        if not isinstance(actual, np.ndarray) or actual.shape != expected.shape:
            return False
        try:
            a = actual.astype(np.float64)
            e = expected.astype(np.float64)
        except (TypeError, ValueError):
            return bool(np.array_equal(actual, expected))
        tol = _tol(actual.dtype, expected.dtype)
        scale = max(1.0, float(np.abs(e).max())) if e.size else 1.0
        return bool(np.allclose(a, e, rtol=tol, atol=tol * scale, equal_nan=True))
    if isinstance(expected, numbers.Number):  # nan == nan, as for arrays
        if isinstance(actual, np.ndarray) and actual.ndim == 0 and actual.dtype.kind in "iuf":
            actual = actual.item()  # a 0-d array is a number; a longer array is not
        return isinstance(actual, numbers.Number) and bool(
            np.isclose(float(actual), float(expected), rtol=1e-9, atol=0.0, equal_nan=True))
    return actual == expected


def _ndarray(value) -> bool:
    return type(value) is np.ndarray


def _judge(exercise: Exercise, case: Case, outcome: Outcome, expected) -> str | None:
    """Why one case fails ('error', 'type', 'shape', 'dtype', 'values'), or None."""
    if outcome.error is not None:
        return "error"
    out = outcome.output
    if exercise.output_kind == "array":
        if not _ndarray(out):
            return "type"
        if out.shape != expected.shape:
            return "shape"
        if not same(out, expected):
            return "values"
        return "dtype" if out.dtype != expected.dtype else None
    if exercise.output_kind == "int":
        if type(out) is not int:
            return "type"
        return None if out == expected else "values"
    return None if same(out, expected) else "values"


def _modified(case: Case, outcome: Outcome) -> list:
    """The names of the array inputs that the call changed."""
    before = array_inputs(case)
    if len(before) != len(outcome.inputs_after):
        return []
    changed = []
    for (where, old), new in zip(before, outcome.inputs_after):
        if not (_ndarray(new) and new.shape == old.shape and new.dtype == old.dtype
                and np.array_equal(new, old, equal_nan=old.dtype.kind in "fc")):
            changed.append(where)
    return changed


def _arg_name(exercise: Exercise, where) -> str:
    if isinstance(where, str):
        return where
    return exercise.arg_names[where] if where < len(exercise.arg_names) else f"argument {where + 1}"


def _reproduces(variant, case, outcome, expected) -> tuple[bool, bool]:
    """``(reproduced, shows)``: whether the variant gives the learner's result on this case (the
    same output, or an error of the same type), and whether that result tells the mistake apart
    (an output that differs from the expected one)."""
    try:
        wrong = variant.compute(case)
    except Exception as exc:  # the mistake crashes here; so did the learner's code?
        same_error = (outcome.error or "").startswith(f"{type(exc).__name__}:")
        return same_error, False
    if wrong is None or outcome.output is None:  # cannot show here / nothing to compare
        return False, False
    if not same(outcome.output, wrong):
        return False, False
    return True, not same(wrong, expected)


def _best_variant(exercise, cases, outcomes, expected, failing):
    """The known mistake that reproduces the learner's results on the most failing cases: the
    variants of one key count together, and a key counts only if it shows (its output differs
    from the expected one) on at least one of them. Returns ``(variant with the most
    reproductions within that key, failing cases the key reproduces)``."""
    by_key: dict[str, set] = {}
    shown: set = set()
    best_of_key: dict[str, tuple] = {}
    for variant in exercise.variants:
        hits = set()
        for i in failing:
            reproduced, shows = _reproduces(variant, cases[i], outcomes[i], expected[i])
            if reproduced:
                hits.add(i)
            if shows:
                shown.add(variant.key)
        by_key.setdefault(variant.key, set()).update(hits)
        if len(hits) > len(best_of_key.get(variant.key, (None, ()))[1]):
            best_of_key[variant.key] = (variant, hits)
    candidates = [k for k in by_key if k in shown and by_key[k]]
    if not candidates:
        return None, []
    key = max(candidates, key=lambda k: len(by_key[k]))  # the first key listed wins a tie
    return best_of_key[key][0], sorted(by_key[key])


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"shape {value.shape}, {value.dtype}"
    return type(value).__name__


def format_value(value, indent: str = "    ") -> str:
    """The text form of a value, whole: never summarised with "..." (arrays via
    ``np.array2string``, 4 decimals)."""
    if isinstance(value, np.ndarray):
        text = np.array2string(
            value, precision=4, suppress_small=True, threshold=sys.maxsize,
            max_line_width=92, separator=" ",
        )
    elif isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value):
        return "\n".join(f"{indent}[{k}] ({_describe(v)}):\n{format_value(v, indent + '  ')}"
                         for k, v in enumerate(value))
    else:
        text = repr(value)
    return "\n".join(indent + line for line in text.splitlines() if line.strip())


def format_case(exercise: Exercise, case: Case) -> str:
    """The arguments of a case, one per line."""
    names = [_arg_name(exercise, i) for i in range(len(case.args))]
    lines = []
    for name, value in [*zip(names, case.args), *case.kwargs.items()]:
        if isinstance(value, np.ndarray):
            lines.append(f"  {name} ({_describe(value)}):\n{format_value(value)}")
        elif isinstance(value, dict) and value and all(isinstance(v, np.ndarray)
                                                       for v in value.values()):
            lines += [f"  {name}[{k!r}] ({_describe(v)}):\n{format_value(v)}"
                      for k, v in value.items()]  # a dict of arrays (lesson 4's params)
        else:
            lines.append(f"  {name} = {value!r}")
    return "\n".join(lines) if lines else "  (no arguments)"


def _case_block(exercise, case, expected, outcome, changed=()) -> str:
    """The smallest failing case: its arguments, the expected output and the learner's."""
    lines = [format_case(exercise, case), f"  expected ({_describe(expected)}):", format_value(expected)]
    if outcome.error is not None:
        lines += [f"  yours raised: {outcome.error}"]
    elif outcome.output is None:
        lines += [f"  yours: an object of type {outcome.output_type}"]
    else:
        lines += [f"  yours ({_describe(outcome.output)}):", format_value(outcome.output)]
    for name, value in changed:
        lines += [f"  {name} after your call ({_describe(value)}):", format_value(value)]
    return "\n".join(lines)


def compose(headline: str, mistake: str = "", case_label: str = "", case: str = "",
            advice: str = "", advice_title: str = "What to look at") -> str:
    """The plain text of a verdict from its parts (wrapped at 92 columns, the case as it is)."""
    lines = [headline]
    if mistake:
        lines += _wrap(f"Likely mistake: {mistake}")
    if case:
        lines += ["", f'Smallest failing case ("{case_label}"):', case]
    if advice:
        lines += ([""] if mistake or case else []) + _wrap(f"{advice_title}: {advice}")
    return "\n".join(lines)


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, width=92, break_long_words=False, break_on_hyphens=False)


def not_done(exercise: Exercise, n_cases: int, what: str | None = None) -> Verdict:
    """The verdict for an exercise whose stub is still there: one short line."""
    hint = exercise.hints.get("not_implemented") or GENERIC["not_implemented"][1]
    headline = f"○ {exercise.id}: not done yet"
    message = f"{headline} — {what or hint}"
    return Verdict(False, n_cases, message, "not_implemented", exercise.id, n_cases,
                   headline=headline + ".", advice=what or hint)


def diagnose(exercise: Exercise, cases: list[Case], outcomes: list[Outcome]) -> Verdict:
    """Judge the learner's outcomes on ``cases`` and explain the most likely mistake."""
    n = len(cases)
    expected = [exercise.reference(c) for c in cases]
    reasons = [_judge(exercise, c, o, e) for c, o, e in zip(cases, outcomes, expected)]
    modified = [_modified(c, o) for c, o in zip(cases, outcomes)]
    failing = [i for i in range(n) if reasons[i] is not None or modified[i]]
    if not failing:
        line = f"✓ {exercise.id}: {n} cases passed"
        return Verdict(True, n, line, None, exercise.id, 0, headline=line)
    headline = f"✗ {exercise.id}: {len(failing)} of {n} cases fail."

    def verdict(key, i, note="", title=None, hint=None, changed=()):
        title = title or GENERIC[key][0]
        hint = hint or exercise.hints.get(key) or GENERIC[key][1]
        mistake = f"{title} [{key}].{note}"
        block = _case_block(exercise, cases[i], expected[i], outcomes[i], changed)
        text = compose(headline, mistake, cases[i].label, block, hint)
        return Verdict(False, n, text, key, exercise.id, len(failing), headline, mistake,
                       cases[i].label, block, hint)

    if any((outcomes[i].error or "").startswith("NotImplementedError") for i in failing):
        return not_done(exercise, n)
    changed = [i for i in failing if modified[i]]
    if changed:
        i = changed[0]
        names = ", ".join(_arg_name(exercise, w) for w in modified[i])
        where = [w for w, _ in array_inputs(cases[i])]
        after = [(_arg_name(exercise, w), outcomes[i].inputs_after[where.index(w)])
                 for w in modified[i]]
        return verdict("input_modified", i, f" Your function changed {names} in {len(changed)} "
                       f"case(s); the check passes copies, so the caller's arrays are safe here.",
                       changed=after)

    first = failing[0]  # the smallest failing case: the one shown
    variant, hits = _best_variant(exercise, cases, outcomes, expected, failing)
    if variant is not None and len(hits) >= MAJORITY * len(failing):
        i = first
        note = f" It reproduces your output on {len(hits)} of the {len(failing)} failing cases."
        out = outcomes[i].output
        if isinstance(out, np.ndarray) and isinstance(expected[i], np.ndarray) \
                and out.dtype != expected[i].dtype:
            note += f" (Also: your output has dtype {out.dtype}, expected {expected[i].dtype}.)"
        return verdict(variant.key, i, note, title=variant.title, hint=variant.hint)

    wrong_type = [i for i in failing if reasons[i] == "type"]
    if wrong_type:
        i = wrong_type[0]
        key = "not_int" if exercise.output_kind == "int" else "not_ndarray"
        return verdict(key, i, f" It returned {outcomes[i].output_type}.")
    reason = reasons[first]
    if reason == "dtype":
        return verdict("wrong_dtype", first, f" Your values are right but the dtype is "
                       f"{outcomes[first].output.dtype}; expected {expected[first].dtype}.")
    if reason == "shape":
        got, want = outcomes[first].output.shape, expected[first].shape
        same_lead = len(got) == len(want) and len(got) >= 2 and got[:-2] == want[:-2]
        if same_lead and got[-2:] == want[-2:][::-1]:
            key = "h_w_swapped"
        elif same_lead and all(abs(g - w) <= 1 for g, w in zip(got[-2:], want[-2:])):
            key = "output_size_off_by_one"
        else:
            key = "wrong_shape"
        return verdict(key, first, f" Your output has shape {got}; expected {want}.")
    if reason == "error":
        return verdict("raised", first)
    return verdict("wrong_values", first)

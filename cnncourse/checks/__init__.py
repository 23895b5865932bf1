"""Exercise checks: instant feedback that names the likely mistake.

A notebook's test cell calls ``check("conv2d", conv2d)`` (a function exercise) or
``check_prediction("q02_params", q02_params)`` (a predict-before-you-run question). On success one
line is printed (``✓ conv2d: 23 cases passed``); on failure an ``AssertionError`` says (a) the
likely mistake, (b) the smallest failing case with its input, expected and actual output, and
(c) what to look at.

Layout: :mod:`~cnncourse.checks.core` (cases, outcomes, verdicts, registry, in-process calls),
:mod:`~cnncourse.checks.diagnose` (comparing and explaining), one module per lesson
(:mod:`~cnncourse.checks.lesson01`, ``lesson02``, ``lesson03``) and
:mod:`~cnncourse.checks.predictions`.
"""
from .core import (
    Case,
    Exercise,
    Outcome,
    Variant,
    Verdict,
    call_case,
    check,
    exercises,
    get_exercise,
)
from .predictions import check_prediction

__all__ = [
    "check",
    "check_prediction",
    "Case",
    "Outcome",
    "Exercise",
    "Variant",
    "Verdict",
    "get_exercise",
    "exercises",
    "call_case",
]

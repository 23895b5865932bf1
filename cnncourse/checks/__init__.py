"""Exercise checks: instant feedback that names the likely mistake.

A notebook's test cell calls ``check("conv2d", conv2d)`` (a function exercise) or
``check_prediction("q02_params", q02_params)`` (a predict-before-you-run question). The check
shows one line on success (``✓ conv2d: 27 cases passed``), one line when the exercise is not done
yet, and otherwise (a) the likely mistake, (b) the smallest failing case with its input, expected
and actual output, and (c) what to look at — as a block in Jupyter, as text elsewhere. It raises
nothing in a learner's session, so Run All reaches the end of a lesson; under grading, or when
asked (``raise_on_fail=True``, ``settings.raise_on_fail = True``, ``CNNCOURSE_RAISE_ON_FAIL=1``),
a check that does not pass raises :class:`CheckFailed`, an ``AssertionError``
(see :mod:`~cnncourse.checks.feedback`).

Layout: :mod:`~cnncourse.checks.cases` (what a check calls the learner's function with, and
helpers to build cases), :mod:`~cnncourse.checks.core` (outcomes, verdicts, exercises, the
registry, in-process calls), :mod:`~cnncourse.checks.diagnose` (comparing and explaining),
:mod:`~cnncourse.checks.feedback` (showing a verdict), :mod:`~cnncourse.checks.predictions`
(predict-before-you-run questions), and one module per lesson, ``lessonNN.py``, with that
lesson's exercises and questions — found by its name, so a new lesson adds a file and edits none.
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
    yours_or_reference,
)
from .feedback import CheckFailed, settings
from .predictions import check_prediction

__all__ = [
    "check",
    "check_prediction",
    "yours_or_reference",
    "settings",
    "CheckFailed",
    "Case",
    "Outcome",
    "Exercise",
    "Variant",
    "Verdict",
    "get_exercise",
    "exercises",
    "call_case",
]

"""Predict-before-you-run questions: each answer is computed by code, not typed in.

A lesson asks a question, the learner writes a value (``q02_params = ...``) and the test cell
calls ``check_prediction("q02_params", q02_params)``; the next cell runs the code that reveals
the answer. A prediction is an :class:`~cnncourse.checks.core.Exercise` of kind
``"prediction"`` with a single case without arguments whose output is the learner's value, so
the batch grader judges it like any other exercise (it reads the variable instead of calling).
Shapes may be given as a tuple or a list. The questions themselves live with their lesson's
exercises (``lessonNN.py``), built with :class:`Prediction` and :func:`wrong_answer`.
"""
from __future__ import annotations

import textwrap

import numpy as np

from .core import Case, Exercise, Outcome, Variant, Verdict, get_exercise, record_value

__all__ = ["Prediction", "check_prediction", "wrong_answer"]

_CASE = Case("your answer", (), {}, 0)


class Prediction(Exercise):
    """A question with an answer computed by ``answer()``.

    Args:
        id: the variable's name and the test cell's ``grade_id``.
        lesson: notebook stem.
        question: the question, as the lesson asks it.
        answer: ``answer() -> value`` (int, float or tuple of ints).
        explain: how the answer is computed, shown when the prediction is wrong.
        wrong: common wrong answers, as :class:`Variant` whose ``compute`` ignores its case.
        tolerance: absolute tolerance for a float answer.
    """

    def __init__(self, id, lesson, question, answer, explain, wrong=(), tolerance=0.0, points=1):
        if not callable(answer):
            raise TypeError(f"{id}: answer must be a function that computes the answer, "
                            f"not the value {answer!r}")
        super().__init__(id, lesson, id, points, make_cases=lambda hidden: [_CASE],
                         reference=lambda case: answer(), variants=wrong,
                         output_kind="value", kind="prediction", question=question)
        self.explain = explain
        self.tolerance = tolerance

    def _correct(self, value, expected) -> bool:
        if isinstance(expected, tuple):
            return isinstance(value, tuple) and tuple(value) == expected
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return abs(value - expected) <= self.tolerance
        return False

    def diagnose(self, cases: list[Case], outcomes: list[Outcome]) -> Verdict:
        """Judge the learner's value (the output of the single case)."""
        expected = self.reference(_CASE)
        outcome = outcomes[0]
        value = _plain(outcome.output)
        if self._correct(value, expected):
            line = f"✓ {self.id}: right ({_show(expected)})"
            return Verdict(True, 1, line, None, self.id, 0, headline=line)
        if outcome.error is not None or outcome.output_type in ("ellipsis", "NoneType"):
            headline = f"○ {self.id}: not answered yet"
            advice = ("write your prediction in the cell above in place of the `...`, run it, "
                      "then run this check again.")
            return Verdict(False, 1, f"{headline} — {advice}", "not_implemented", self.id, 1,
                           headline=headline + ".", advice=advice)
        if value is None:
            kind = "a tuple of ints (a shape)" if isinstance(expected, tuple) else "a number"
            return self._wrong(f"your answer is of type {outcome.output_type}; write {kind}.",
                               "wrong_type")
        for variant in self.variants:
            if self._correct(value, variant.compute(_CASE)):
                return self._wrong(f"not quite — your answer {_show(value)} is what you get if "
                                   f"{variant.title}.", variant.key,
                                   f"{variant.hint} The answer is {_show(expected)}: {self.explain}")
        return self._wrong(f"your answer {_show(value)} is not right.", "wrong_answer",
                           f"The answer is {_show(expected)}: {self.explain}")

    def _wrong(self, headline: str, key: str, advice: str = "") -> Verdict:
        headline = f"✗ {self.id}: {headline}"
        lines = [*_wrap(headline), *_wrap(advice)]
        return Verdict(False, 1, "\n".join(lines), key, self.id, 1, headline=headline,
                       advice=advice)


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, width=92, break_long_words=False, break_on_hyphens=False)


def _plain(value):
    """A small NumPy array of numbers as a learner means it: a 1-d int array (``np.array(shape)``)
    as a tuple of ints, a 0-d array as a number; anything else unchanged."""
    if type(value) is np.ndarray and value.dtype.kind in "iuf" and value.size <= 16:
        if value.ndim == 0:
            return value.item()
        if value.ndim == 1 and value.dtype.kind in "iu":
            return tuple(int(v) for v in value)
    return value


def _show(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return repr(value)


def check_prediction(question_id: str, answer, *, raise_on_fail: bool | None = None) -> Verdict:
    """Check a predict-before-you-run answer and show the verdict: ``✓ <id>: right (...)``, a
    "not answered yet" line, or what the answer is and how it is computed. Tuples and lists are
    both fine for shapes. Raises only where :func:`~cnncourse.checks.core.check` does.

    Example:
        >>> check_prediction("q03_pool_params", 0)
        ✓ q03_pool_params: right (0)
        Verdict(passed=True, ...)
    """
    from .feedback import show

    exercise = get_exercise(question_id)
    if exercise.kind != "prediction":
        raise ValueError(f"{question_id!r} is a function exercise: use check({question_id!r}, ...)")
    output, type_name = record_value(answer)
    return show(exercise.diagnose([_CASE], [Outcome(output, type_name)]), raise_on_fail)


def wrong_answer(key: str, title: str, value, hint: str = "") -> Variant:
    """A common wrong answer to a question: ``value`` (or ``value()``) is what a learner gets if
    ``title`` ("the biases are left out"); ``hint`` says what to correct."""
    return Variant(key, title, hint, lambda case: value() if callable(value) else value)

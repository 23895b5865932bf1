"""Predict-before-you-run questions: each answer is computed here by code, not typed in.

A lesson asks a question, the learner writes a value (``q02_params = ...``) and the test cell
calls ``check_prediction("q02_params", q02_params)``; the next cell runs the code that reveals
the answer. A prediction is an :class:`~cnncourse.checks.core.Exercise` of kind
``"prediction"`` with a single case without arguments whose output is the learner's value, so
the batch grader judges it like any other exercise (it reads the variable instead of calling).
Shapes may be given as a tuple or a list.
"""
from __future__ import annotations

import functools
import textwrap

import numpy as np

from ..shapes import conv_output_size, pool_output_size
from .core import Case, Exercise, Outcome, Variant, Verdict, get_exercise, record_value, register

__all__ = ["Prediction", "check_prediction", "PREDICTIONS"]

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


def _wrong(key, title, value, hint=""):
    return Variant(key, title, hint, lambda case: value() if callable(value) else value)


# ---------------------------------------------------------------- lesson 01
def _dense(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


@functools.lru_cache(maxsize=1)
def _shift_changed() -> float:
    """Fraction of the 784 pixels of MNIST test image 0 that change when it moves 2 columns right."""
    from ..data import load_mnist

    digit = load_mnist("test")[0][0]
    shifted = np.zeros_like(digit)
    shifted[:, 2:] = digit[:, :-2]
    return float((digit != shifted).mean())


PREDICTIONS = {p.id: register(p) for p in [
    Prediction(
        "q01_dense_params", "01_pixels_as_matrices",
        "A 224×224 colour photo is flattened and fed to a dense layer with 1000 outputs: how many "
        "parameters (weights + biases) does that layer have?",
        lambda: _dense(224 * 224 * 3, 1000),
        "a dense layer has n_in * n_out weights plus n_out biases, with n_in = 224*224*3 = 150,528.",
        wrong=[
            _wrong("bias_forgotten", "the biases are left out", _dense(224 * 224 * 3, 1000, False),
                   "Each of the 1000 outputs has its own bias too."),
            _wrong("channels_forgotten", "the 3 colour channels are left out",
                   _dense(224 * 224, 1000), "A colour pixel is 3 numbers."),
        ]),
    Prediction(
        "q01_shift_changed", "01_pixels_as_matrices",
        "MNIST test image 0 is shifted 2 columns to the right (zeros come in on the left): what "
        "fraction of its 784 pixel values change? (a number between 0 and 1)",
        _shift_changed,
        "compare the digit with its shifted copy pixel by pixel; only pixels on or next to the "
        "strokes change, most of the image is background that stays 0.",
        wrong=[_wrong("count_not_fraction", "the number of pixels is given instead of a fraction",
                      lambda: round(_shift_changed() * 784), "Divide the count by 784.")],
        tolerance=0.03),
    # ------------------------------------------------------------ lesson 02
    Prediction(
        "q02_output_shape", "02_convolution",
        "x has shape (8, 3, 32, 32) and weight has shape (16, 3, 5, 5); what is the shape of "
        "conv2d(x, weight) (stride 1, no padding)?",
        lambda: (8, 16, conv_output_size(32, 5), conv_output_size(32, 5)),
        "(N, F, OH, OW): the batch stays 8, there is one output channel per filter (16), and "
        "OH = OW = 32 - 5 + 1 = 28.",
        wrong=[
            _wrong("channels_kept", "the input channels are kept instead of one per filter",
                   (8, 3, conv_output_size(32, 5), conv_output_size(32, 5)),
                   "Each filter gives one output channel."),
            _wrong("size_not_shrunk", "the spatial size does not shrink", (8, 16, 32, 32),
                   "Without padding a 5×5 window fits in 32 - 5 + 1 positions."),
            _wrong("output_size_off_by_one", "the `+ 1` is forgotten",
                   (8, 16, conv_output_size(32, 5) - 1, conv_output_size(32, 5) - 1),
                   "Count the positions: 32 - 5 + 1."),
        ]),
    Prediction(
        "q02_params", "02_convolution",
        "How many parameters (weights + biases) does a convolution layer with 16 filters of "
        "size 5×5 over 3 input channels have?",
        lambda: 16 * 3 * 5 * 5 + 16,
        "each filter has C * KH * KW = 3*5*5 = 75 weights and one bias: 16 * 75 + 16 — "
        "whatever the size of the image.",
        wrong=[
            _wrong("bias_forgotten", "the biases are left out", 16 * 3 * 5 * 5,
                   "Each filter has one bias."),
            _wrong("channels_forgotten", "the 3 input channels are left out", 16 * 5 * 5 + 16,
                   "A filter spans every input channel: its weight is (C, KH, KW)."),
        ]),
    # ------------------------------------------------------------ lesson 03
    Prediction(
        "q03_pool_shape", "03_pooling",
        "x has shape (8, 16, 28, 28); what is the shape of max_pool2d(x, kernel_size=2)?",
        lambda: (8, 16, pool_output_size(28, 2), pool_output_size(28, 2)),
        "pooling works on each channel on its own (N and C stay) and the default stride equals "
        "kernel_size, so 28 // 2 = 14.",
        wrong=[
            _wrong("default_stride", "the default stride is taken to be 1",
                   (8, 16, pool_output_size(28, 2, 1), pool_output_size(28, 2, 1)),
                   "stride=None means stride=kernel_size."),
            _wrong("channels_mixed", "the channels are pooled together",
                   (8, 1, pool_output_size(28, 2), pool_output_size(28, 2)),
                   "Pooling never mixes channels."),
        ]),
    Prediction(
        "q03_pool_params", "03_pooling",
        "How many trainable parameters does a 2×2 max-pooling layer have?",
        lambda: 0,
        "pooling takes the max (or mean) of each window; there is nothing to learn.",
        wrong=[_wrong("pool_has_weights", "the window is taken to have weights like a kernel", 4,
                      "A pooling window has no weights.")]),
]}

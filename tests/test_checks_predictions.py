"""Tests of predict-before-you-run questions (cnncourse.checks.predictions, and every question
registered by a lesson's checks): the right answer passes as a tuple, list or array, each common
wrong answer is named, unanswered and odd values are told apart."""
from __future__ import annotations

import numpy as np
import pytest

from cnncourse.checks import Outcome, check_prediction, exercises, get_exercise
from cnncourse.checks.core import record_value
from cnncourse.checks.predictions import _show


PREDICTION_IDS = [e.id for e in exercises() if e.kind == "prediction"]


@pytest.mark.parametrize("question_id", PREDICTION_IDS)
def test_prediction_right_answer_passes_as_tuple_or_list(question_id, capsys):
    answer = get_exercise(question_id).reference(None)
    assert check_prediction(question_id, answer).passed
    if isinstance(answer, tuple):
        assert check_prediction(question_id, list(answer)).passed
    out, err = capsys.readouterr()
    assert out.startswith(f"✓ {question_id}: right") and err == ""


@pytest.mark.parametrize("question_id", PREDICTION_IDS)
def test_prediction_common_wrong_answers_are_named(question_id):
    ex = get_exercise(question_id)
    assert ex.variants, "every question lists at least one common wrong answer"
    for variant in ex.variants:
        with pytest.raises(AssertionError, match="not quite") as info:
            check_prediction(question_id, variant.compute(None), raise_on_fail=True)
        message = " ".join(str(info.value).split())  # as read, whatever the line breaks
        assert variant.title in message and _show(ex.reference(None)) in message
        assert check_prediction(question_id, variant.compute(None)).diagnosis == variant.key


@pytest.mark.parametrize("answer, key", [(..., "not_implemented"), (None, "not_implemented"),
                                         ("ten", "wrong_type"), (123456789, "wrong_answer")])
def test_prediction_unanswered_or_odd_values(answer, key):
    ex = get_exercise("q02_params")
    output, type_name = record_value(answer)
    verdict = ex.diagnose(ex.cases(), [Outcome(output, type_name)])
    assert verdict.diagnosis == key and not verdict.passed


def test_shift_prediction_is_computed_from_the_data():
    from cnncourse.data import load_mnist

    digit = load_mnist("test")[0][0].astype(int)
    moved = np.roll(digit, 2, axis=1)
    moved[:, :2] = 0
    assert get_exercise("q01_shift_changed").reference(None) == np.mean(digit != moved)


@pytest.mark.parametrize("question_id", ["q02_output_shape", "q01_shift_changed", "q02_params"])
def test_prediction_given_as_a_numpy_array_is_judged_by_value(question_id, capsys):
    answer = get_exercise(question_id).reference(None)
    assert check_prediction(question_id, np.array(answer)).passed
    assert capsys.readouterr().out.startswith(f"✓ {question_id}: right")

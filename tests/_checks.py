"""Shared helpers of the check tests (tests/test_checks_*.py).

Each lesson's test file lists, per exercise, one wrong implementation per diagnosis the check
claims (``WRONG``) and correct implementations written differently from the reference
(``CORRECT``), then asks these helpers to run them. The wrong implementations are written the way a
learner would (loops), not by transforming the reference, so that they test the diagnosis and not
a copy of it.
"""
from __future__ import annotations

from cnncourse.checks import CheckFailed, call_case, check, exercises, get_exercise


def verdict_of(exercise_id, fn):
    ex = get_exercise(exercise_id)
    cases = ex.cases()
    return ex.diagnose(cases, [call_case(fn, c) for c in cases])


def assert_diagnosis(exercise_id, fn, key):
    """``fn`` gets diagnosis ``key``, and the message names it, shows a case and what to do."""
    import pytest

    with pytest.raises(CheckFailed) as info:
        check(exercise_id, fn, raise_on_fail=True)
    verdict = verdict_of(exercise_id, fn)
    assert not verdict.passed
    assert verdict.diagnosis == key, verdict.message
    message = str(info.value)
    assert message == verdict.message and info.value.verdict == verdict
    assert f"[{key}]" in message or key == "not_implemented"
    assert "expected" in message or key == "not_implemented"
    assert "What to" in message
    assert "..." not in verdict.case and "…" not in verdict.case, "a shown case prints whole"


def assert_passes(exercise_id, fn, capsys):
    """``fn`` passes, with one printed line, on the visible and on more hidden cases."""
    verdict = check(exercise_id, fn)
    assert verdict.passed and verdict.diagnosis is None
    out, err = capsys.readouterr()
    assert out == f"✓ {exercise_id}: {verdict.n_cases} cases passed\n"
    assert err == ""
    hidden = check(exercise_id, fn, hidden=True)
    assert hidden.passed and hidden.n_cases > verdict.n_cases


def pairs(table: dict) -> list[tuple]:
    """``{exercise: {key: fn}}`` or ``{exercise: [fn, ...]}`` as (exercise, key or index) pairs."""
    return [(ex, k) for ex, items in table.items()
            for k in (items if isinstance(items, dict) else range(len(items)))]


def ids(pairs_: list[tuple]) -> list[str]:
    return [f"{a}-{b}" for a, b in pairs_]


def assert_lesson_is_tested(lesson: str, wrong: dict, correct: dict) -> None:
    """Every function exercise of ``lesson`` has correct implementations and a wrong one for each
    diagnosis it claims (its variants, and the generic keys it gives a hint for)."""
    functions = {e.id for e in exercises(lesson) if e.kind == "function"}
    assert functions, f"no exercises registered for {lesson}"
    assert functions <= set(correct), f"no correct implementation for {functions - set(correct)}"
    for exercise_id in functions:
        claimed = set(get_exercise(exercise_id).diagnoses)
        untested = claimed - set(wrong.get(exercise_id, {}))
        assert not untested, f"{exercise_id}: no wrong implementation for {sorted(untested)}"


def lesson_tests(lesson: str, wrong: dict, correct: dict):
    """The three tests every lesson's check tests run; a lesson's test file assigns them::

        (test_wrong_implementation_gets_its_diagnosis, test_correct_implementations_pass,
         test_every_exercise_and_diagnosis_is_tested) = lesson_tests(LESSON, WRONG, CORRECT)
    """
    import pytest

    @pytest.mark.parametrize("exercise_id, key", pairs(wrong), ids=ids(pairs(wrong)))
    def test_wrong_implementation_gets_its_diagnosis(exercise_id, key):
        assert_diagnosis(exercise_id, wrong[exercise_id][key], key)

    @pytest.mark.parametrize("exercise_id, index", pairs(correct), ids=ids(pairs(correct)))
    def test_correct_implementations_pass(exercise_id, index, capsys):
        assert_passes(exercise_id, correct[exercise_id][index], capsys)

    def test_every_exercise_and_diagnosis_is_tested():
        assert_lesson_is_tested(lesson, wrong, correct)

    return (test_wrong_implementation_gets_its_diagnosis, test_correct_implementations_pass,
            test_every_exercise_and_diagnosis_is_tested)

"""Tests of the checks' machinery (cnncourse.checks.core and .cases): wrong kinds of output are
refused, a stub is "not done", cases are deterministic, bound by name and ranked by size, outcomes
are plain data, and a lesson's checks are found by adding one module — nothing else edited."""
from __future__ import annotations

import difflib

import numpy as np
import pytest

from _checks import verdict_of
from cnncourse import checks
from cnncourse.checks import Outcome, call_case, check, exercises, get_exercise
from cnncourse.checks.cases import make_case, parse_signature
from cnncourse.checks.core import record_value
from cnncourse.checks.diagnose import GENERIC, same
from cnncourse.notebook_tools import lesson_paths, lessons_dir
from test_checks_lesson02 import conv_einsum, conv_impl, correlate_impl


class Evil:
    """An object that claims to equal everything."""

    shape = property(lambda self: (1,))

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class MyArray(np.ndarray):
    pass


def not_implemented(*args, **kwargs):
    raise NotImplementedError("exercise conv2d: replace this line with your code")


@pytest.mark.parametrize("make_output, shown", [
    (lambda out: out.tolist(), "list"),
    (lambda out: out.view(MyArray), "MyArray"),
    (lambda out: Evil(), "Evil"),
    (lambda out: (out,), "tuple"),
])
def test_outputs_that_are_not_plain_arrays_fail(make_output, shown):
    fn = lambda *args, **kwargs: make_output(conv_einsum(*args, **kwargs))  # noqa: E731
    verdict = verdict_of("conv2d", fn)
    assert verdict.diagnosis == "not_ndarray"
    assert shown in verdict.message and "np.ndarray" in verdict.message


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_np_matrix_output_fails():
    verdict = verdict_of("correlate2d", correlate_impl("matrix"))
    assert verdict.diagnosis == "not_ndarray" and "numpy.matrix" in verdict.message


def test_stub_says_not_done_yet():
    verdict = verdict_of("conv2d", not_implemented)
    assert verdict.diagnosis == "not_implemented"
    assert "not done yet" in verdict.message and "NotImplementedError" in verdict.message


def test_a_failing_check_prints_its_diagnosis_and_raises_nothing(capsys):
    verdict = check("conv2d", conv_impl("kernel_flipped"))
    assert not verdict.passed and verdict.status == "failed"
    assert capsys.readouterr() == (verdict.message + "\n", "")


def test_a_check_asked_to_raise_prints_nothing(capsys):
    with pytest.raises(AssertionError):
        check("conv2d", conv_impl("kernel_flipped"), raise_on_fail=True)
    assert capsys.readouterr() == ("", "")


def test_a_crash_shows_the_error_and_the_case():
    def crashes(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return x[:, :, 100]
    verdict = verdict_of("conv2d", crashes)
    assert verdict.diagnosis == "raised" and "IndexError" in verdict.message


def test_check_refuses_a_non_function_with_advice():
    verdict = check("conv2d", np.zeros(3))
    assert verdict.diagnosis == "not_a_function" and verdict.status == "failed"
    assert "check('conv2d', conv2d)" in verdict.message
    with pytest.raises(AssertionError, match=r"check\('conv2d', conv2d\)"):
        check("conv2d", np.zeros(3), raise_on_fail=True)


def test_an_ellipsis_is_not_done_yet():
    verdict = check("conv2d", ...)
    assert verdict.status == "not done" and "not done yet" in verdict.message


def test_unknown_id_lists_the_valid_ones():
    with pytest.raises(ValueError, match="conv2d"):
        get_exercise("conv3d")


def test_cases_are_deterministic_and_sorted_by_size():
    for ex in exercises():
        a, b = ex.cases(), ex.cases()
        assert [c.label for c in a] == [c.label for c in b]
        assert all(same(x, y) for c, d in zip(a, b) for x, y in zip(c.args, d.args))
        assert [c.size for c in a] == sorted(c.size for c in a)


def test_diagnose_needs_only_plain_outcomes():
    """The grader rebuilds outcomes from raw bytes in another process: diagnose must judge
    from plain data only, so a round trip through bytes gives the same verdict."""
    ex = get_exercise("conv2d")
    cases = ex.cases()
    outcomes = [call_case(conv_impl("kernel_flipped"), c) for c in cases]

    def through_bytes(a):
        return np.frombuffer(a.tobytes(), dtype=a.dtype).reshape(a.shape).copy()

    rebuilt = [Outcome(through_bytes(o.output), o.output_type, o.error,
                       tuple(through_bytes(a) for a in o.inputs_after)) for o in outcomes]
    assert ex.diagnose(cases, rebuilt) == ex.diagnose(cases, outcomes)


def test_record_value_keeps_only_plain_data():
    assert record_value(np.int64(3)) == (3, "numpy.int64")
    assert record_value([2, 3]) == ((2, 3), "list[int, int]")
    assert record_value(True)[0] is None
    assert record_value(np.zeros(2).view(MyArray))[0] is None


def test_generic_keys_have_title_and_hint():
    assert all(len(v) == 2 and all(v) for v in GENERIC.values())


def test_a_big_nested_list_is_named_briefly():
    # an array returned as .tolist() once gave a 1.4 MB failure message listing every float
    output, name = record_value(np.zeros((8, 16, 28, 28)).tolist())
    assert output is None and len(name) < 200 and "(8 items)" in name
    verdict = check("conv2d", lambda *args, **kwargs: np.zeros((2, 3, 5, 5)).tolist())
    assert "not_ndarray" in verdict.message and len(verdict.message) < 2000


# ------------------------------------------------------------------ cases bound by name
def test_a_bound_case_reads_its_arguments_by_name_defaults_included():
    names, defaults = parse_signature("x, weight, bias=None, stride=1, padding=0, dilation=1")
    case = make_case("demo", np.zeros((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), padding=1).bind(names, defaults)
    assert case.x.shape == (1, 1, 3, 3) and case.weight.shape == (1, 1, 2, 2)
    assert case.bias is None and case.stride == 1 and case.padding == 1 and case.dilation == 1
    with pytest.raises(AttributeError, match="no argument 'groups'.*x, weight, bias"):
        case.groups
    with pytest.raises(ValueError, match="only plain parameters"):
        parse_signature("x, *args")


def test_every_exercise_s_cases_are_bound_to_its_signature():
    # the course's own exercises (tests may register others, e.g. the grader's fixture lesson)
    course = {p.stem for p in lesson_paths(lessons_dir())}
    for ex in exercises():
        if ex.kind == "function" and ex.lesson in course:
            assert ex.signature, f"{ex.id}: give the learner's signature"
            for case in ex.cases():
                assert set(case.arguments) == set(ex.arg_names), (ex.id, case.label)


def test_cases_are_ranked_by_input_and_output_size():
    ex = get_exercise("conv2d")
    for case in ex.cases():
        inputs = sum(a.size for a in case.arguments.values() if isinstance(a, np.ndarray))
        assert case.size == inputs + ex.reference(case).size, case.label


# ------------------------------------------------------------------ a lesson's checks: one new module
DUMMY_LESSON = '''\
"""Checks for lesson 98 (a dummy lesson, written by a test): one exercise and one question."""
import numpy as np

from .core import Exercise, Variant, int_values, make_case, register, seeded_rng
from .predictions import Prediction, wrong_answer

LESSON = "98_dummy"


def _cases(hidden):
    rng = seeded_rng("dummy_double", hidden)
    return [make_case("a 2x2 array", int_values(rng, (2, 2)))] + [
        make_case(f"random {k}", int_values(rng, (3, k + 1))) for k in range(3)]


DUMMY_DOUBLE = register(Exercise(
    "dummy_double", LESSON, "dummy_double", 1, signature="x",
    make_cases=_cases, reference=lambda c: 2 * c.x,
    variants=[Variant("squared", "squares instead of doubling", "2 * x, not x ** 2.",
                      lambda c: c.x ** 2)]))

Q98_ANSWER = register(Prediction(
    "q98_answer", LESSON, "What is 6 * 7?", lambda: 42, "6 * 7 = 42.",
    wrong=[wrong_answer("added", "the numbers are added", 13, "Multiply them.")]))
'''


def test_a_new_lesson_s_checks_are_one_new_module(tmp_path, monkeypatch):
    """What adding lesson 98's checks takes: one file, cnncourse/checks/lesson98.py (written here
    in a folder of its own, added to the package's path); no existing module is edited."""
    (tmp_path / "lesson98.py").write_text(DUMMY_LESSON)
    # the whole change, as a diff (shown with `pytest -s`)
    print("\n".join(difflib.unified_diff([], DUMMY_LESSON.splitlines(), "/dev/null",
                                         "b/cnncourse/checks/lesson98.py", lineterm="")))
    monkeypatch.setattr(checks, "__path__", [*checks.__path__, str(tmp_path)])
    monkeypatch.delitem(__import__("sys").modules, "cnncourse.checks.lesson98", raising=False)
    ex = get_exercise("dummy_double")
    assert ex.lesson == "98_dummy" and [e.id for e in exercises("98_dummy")] == ["dummy_double", "q98_answer"]
    assert check("dummy_double", lambda x: x + x).passed
    assert check("dummy_double", lambda x: x ** 2).diagnosis == "squared"
    assert checks.check_prediction("q98_answer", 13).diagnosis == "added"
    monkeypatch.undo()
    from cnncourse.checks import core
    for exercise_id in ("dummy_double", "q98_answer"):
        core._REGISTRY.pop(exercise_id)


def test_the_registry_lists_no_lesson_by_name():
    import inspect

    from cnncourse.checks import core
    source = inspect.getsource(core)
    assert "lesson01" not in source and "import lesson" not in source


# ------------------------------------------------------------------ which mistake is named, which case shown
def _toy(variants=()):
    """A small exercise (not registered): double each value of a 1-d array."""
    from cnncourse.checks import Exercise

    return Exercise("toy_double", "00_toy", "double", 1, signature="x",
                    make_cases=lambda hidden: [make_case(f"{n} values", np.arange(float(n)) + 1)
                                               for n in range(1, 7)],
                    reference=lambda c: 2 * c.x, variants=variants)


@pytest.mark.parametrize("n_failing, n_reproduced, named", [
    (3, 2, True), (3, 1, False), (4, 3, True), (4, 2, False), (6, 4, True), (6, 3, False)])
def test_a_mistake_is_named_only_for_two_thirds_of_the_failing_cases(n_failing, n_reproduced, named):
    from cnncourse.checks import Variant

    ex = _toy([Variant("squared", "squares instead of doubling", "2 * x.", lambda c: c.x ** 2 + 2)])
    cases = ex.cases()  # 6 cases; the last n_failing fail, n_reproduced of them like the variant
    outputs = [2 * c.x for c in cases]
    for k, i in enumerate(range(len(cases) - n_failing, len(cases))):
        outputs[i] = cases[i].x ** 2 + 2 if k < n_reproduced else -cases[i].x
    verdict = ex.diagnose(cases, [Outcome(o, "numpy.ndarray") for o in outputs])
    assert verdict.n_failing == n_failing
    assert (verdict.diagnosis == "squared") is named, verdict.message
    if named:
        said = f"It reproduces your output on {n_reproduced} of the {n_failing} failing cases"
        assert said in " ".join(verdict.message.split())
    else:
        assert verdict.diagnosis == "wrong_values"
    # the case shown is the smallest failing one, whether or not the mistake explains it
    assert verdict.case_label == cases[len(cases) - n_failing].label


def test_a_conv2d_that_is_flipped_on_one_case_only_is_not_called_flipped():
    from cnncourse import numpy_ops

    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
        out = numpy_ops.conv2d(x, weight[:, :, ::-1, ::-1], bias, stride, padding, dilation)
        return out if x.size == 9 else out + 1.0
    verdict = verdict_of("conv2d", conv2d)
    assert verdict.diagnosis != "kernel_flipped" and not verdict.passed


def test_the_shown_case_is_the_smallest_failing_one_and_prints_whole():
    from cnncourse import numpy_ops

    def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):  # wrong on big inputs only
        out = numpy_ops.conv2d(x, weight, bias, stride, padding, dilation)
        return out * 2 if x.size > 100 else out
    ex = get_exercise("conv2d")
    cases = ex.cases()
    failing = [c for c in cases if c.x.size > 100]
    verdict = verdict_of("conv2d", conv2d)
    smallest = min(failing, key=lambda c: c.size)
    assert verdict.case_label == smallest.label and smallest.x.size > 64
    assert "..." not in verdict.case and verdict.case.count("[") > 64


def test_height_and_width_swapped_is_not_an_off_by_one():
    from cnncourse import numpy_ops

    verdict = verdict_of("max_pool2d", lambda x, kernel_size, stride=None:
                         numpy_ops.max_pool2d(x, kernel_size, stride).swapaxes(2, 3))
    assert verdict.diagnosis == "h_w_swapped"
    ex = _toy()
    cases = [make_case("2x3", np.zeros((2, 3))).bind(("x",), {})]
    generic = ex.diagnose(cases, [Outcome(np.zeros((3, 2)), "numpy.ndarray")])
    assert generic.diagnosis == "h_w_swapped" and "height and width are swapped" in generic.message

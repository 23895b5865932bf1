"""Tests of cnncourse.checks.feedback: a check shows its verdict and never stops a learner's
notebook; it raises under nbgrader's grading or when the learner asks for it; the display is
a deterministic block with the verdict as data beside it."""
from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

from cnncourse.checks import (CheckFailed, Verdict, call_case, check, check_prediction, feedback,
                              get_exercise, settings)
from cnncourse.checks.diagnose import same
from cnncourse.checks.feedback import VERDICT_MIME, Feedback, should_raise, verdict_data, verdict_html


def flipped(x, weight, bias=None, stride=1, padding=0, dilation=1):
    from cnncourse import numpy_ops

    return numpy_ops.conv2d(x, weight[:, :, ::-1, ::-1], bias, stride, padding, dilation)


def verdict_reference(case):
    return get_exercise("conv2d").reference(case)


def stub(x, weight, bias=None, stride=1, padding=0, dilation=1):
    raise NotImplementedError("exercise conv2d: replace this line with your code")


@pytest.fixture(autouse=True)
def learner_session(monkeypatch):
    """A learner's session: not graded, nothing asked."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("CNNCOURSE_RAISE_ON_FAIL", raising=False)
    monkeypatch.setattr(feedback, "_GRADED_AT_IMPORT", False)
    monkeypatch.setattr(settings, "raise_on_fail", None)


def test_learner_session_never_raises():
    assert not should_raise()
    assert check("conv2d", flipped).status == "failed"
    assert check("conv2d", stub).status == "not done"
    assert check_prediction("q02_params", ...).status == "not done"
    assert check_prediction("q02_params", 5).status == "failed"


@pytest.mark.parametrize("mode", ["autograde", "validate"])
def test_nbgrader_grading_always_raises(monkeypatch, mode):
    monkeypatch.setenv("NBGRADER_EXECUTION", mode)
    settings.raise_on_fail = False
    for fn in (flipped, stub):
        with pytest.raises(CheckFailed):
            check("conv2d", fn, raise_on_fail=False)
    with pytest.raises(CheckFailed, match="not answered yet"):
        check_prediction("q02_params", ...)
    assert check_prediction("q02_params", 16 * 3 * 5 * 5 + 16).passed  # a pass never raises


def test_grading_is_remembered_from_import_time(monkeypatch):
    # a learner's cell that deletes NBGRADER_EXECUTION after the setup cell changes nothing
    monkeypatch.setattr(feedback, "_GRADED_AT_IMPORT", True)
    with pytest.raises(CheckFailed):
        check("conv2d", stub, raise_on_fail=False)


@pytest.mark.parametrize("value, raises", [("1", True), ("yes", True), ("0", False), ("", False),
                                           ("off", False)])
def test_raise_on_fail_from_the_environment(monkeypatch, value, raises):
    monkeypatch.setenv("CNNCOURSE_RAISE_ON_FAIL", value)
    assert should_raise() is raises


def test_argument_then_setting_then_environment(monkeypatch):
    monkeypatch.setenv("CNNCOURSE_RAISE_ON_FAIL", "1")
    settings.raise_on_fail = False
    assert not should_raise() and should_raise(True)
    settings.raise_on_fail = True
    assert should_raise() and not should_raise(False)
    with pytest.raises(CheckFailed) as info:
        check("conv2d", flipped)
    assert info.value.verdict.diagnosis == "kernel_flipped"
    assert isinstance(info.value, AssertionError)


def test_html_block_is_escaped_deterministic_and_complete():
    verdict = check("conv2d", flipped)
    page = verdict_html(verdict)
    assert page == verdict_html(check("conv2d", flipped))
    assert "Likely mistake:" in page and "Smallest failing case" in page and "What to look at:" in page
    assert "<pre" in page and "[[[[ 2.  0. -3.]" in page
    assert "[kernel_flipped]" in page and "Traceback" not in page and "cnncourse/" not in page
    assert all(tag not in page for tag in ("<script", " id="))


def test_html_escapes_what_the_learner_returned():
    verdict = Verdict(False, 1, "✗ x: <b>1 & 2</b>", "wrong_values", "x", 1, "✗ x: <b>1 & 2</b>",
                      "returned <object>", "a & b", "  yours: <b>", "use < not >")
    page = verdict_html(verdict)
    assert "<b>1" not in page and "&lt;b&gt;1 &amp; 2&lt;/b&gt;" in page
    assert "&lt;object&gt;" in page and "use &lt; not &gt;" in page


def test_the_mime_bundle_has_text_html_and_the_verdict_as_data():
    verdict = check("conv2d", flipped)
    bundle = Feedback(verdict)._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", VERDICT_MIME}
    assert bundle["text/plain"] == verdict.message
    data = json.loads(json.dumps(bundle[VERDICT_MIME]))
    assert data == verdict_data(verdict)
    assert data["status"] == "failed" and data["diagnosis"] == "kernel_flipped"
    cases = get_exercise("conv2d").cases()
    flips_show = [c for c in cases if not same(call_case(flipped, c).output, verdict_reference(c))]
    assert data["exercise"] == "conv2d" and data["n_cases"] == len(cases)
    assert data["n_failing"] == len(flips_show) > 0
    assert data["case"] in data["message"] and data["advice"].split()[0] in data["message"]


def test_a_passing_check_is_one_line_in_every_form():
    from cnncourse import numpy_ops

    verdict = check("conv2d", numpy_ops.conv2d)
    data = verdict_data(verdict)
    n_cases = len(get_exercise("conv2d").cases())
    assert verdict.message == f"✓ conv2d: {n_cases} cases passed" == data["headline"]
    assert data["status"] == "passed" and data["mistake"] == data["case"] == ""


def _run(cells: list[str], env: dict | None = None):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, allow_errors=True).execute(env=env)
    return nb


LESSON_CELLS = [
    "import os\nfrom cnncourse.checks import check, check_prediction",
    "def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):\n"
    "    raise NotImplementedError('exercise conv_output_size: replace this line with your code')",
    "check('conv_output_size', conv_output_size)",
    "q02_params = ...",
    "check_prediction('q02_params', q02_params);",
    "def conv_output_size(n, k, stride=1, padding=0, dilation=1):\n    return n - k",
    "check('conv_output_size', conv_output_size)",
    "print('the last cell ran')",
]


@pytest.mark.slow
def test_in_a_kernel_checks_display_and_the_notebook_runs_on(monkeypatch):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("NBGRADER_EXECUTION", "CNNCOURSE_RAISE_ON_FAIL")}
    nb = _run(LESSON_CELLS, env)
    outputs = [o for c in nb.cells for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    verdicts = [o.data[VERDICT_MIME]["status"] for o in outputs if o.output_type == "display_data"]
    assert verdicts == ["not done", "not done", "failed"]
    assert all({"text/plain", "text/html"} <= set(o.data) for o in outputs if o.output_type == "display_data")
    assert nb.cells[-1].outputs[0].text == "the last cell ran\n"

    graded = _run(LESSON_CELLS, dict(env, NBGRADER_EXECUTION="autograde"))
    errors = [i for i, c in enumerate(graded.cells) if any(o.output_type == "error" for o in c.outputs)]
    assert errors == [2, 4, 6]
    assert [o.ename for o in graded.cells[6].outputs] == ["CheckFailed"]


def test_yours_or_reference_uses_a_passing_function_or_the_course_s(capsys):
    from cnncourse.checks import yours_or_reference

    def mine(img, factor):
        H, W = img.shape[0] // factor * factor, img.shape[1] // factor * factor
        return img[:H, :W].reshape(H // factor, factor, W // factor, factor).mean(axis=(1, 3))

    assert yours_or_reference("downsample", mine) is mine
    assert capsys.readouterr().out == ""
    for given, said in ((..., "not done yet"), (lambda img, factor: img[::factor, ::factor], "not right yet")):
        fn = yours_or_reference("downsample", given)
        assert said in capsys.readouterr().out
        np.testing.assert_array_equal(fn(np.arange(16.0).reshape(4, 4), 2), [[2.5, 4.5], [10.5, 12.5]])
        assert fn.__name__ == "downsample"


def test_html_shows_code_spans_as_code():
    verdict = check("conv2d", stub)
    assert "<code>raise NotImplementedError(...)</code>" in verdict_html(verdict)
    assert "`" not in verdict_html(verdict)

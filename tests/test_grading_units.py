"""Unit tests of the grader's parts that need no kernel: transport, notebooks, gradebook, CLI."""
from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cnncourse.checks.core import call_case, make_case
from cnncourse.grading import kernel_harness
from cnncourse.grading.batch import MAX_TMP_PATH, _temporary_root
from cnncourse.grading.gradebook import Journal, Row, write_atomic, write_gradebook
from cnncourse.grading.notebooks import (SubmissionError, learner_cells, load_source,
                                         parse_submission, prune_setup)
from cnncourse.grading.submissions import find_submissions
from cnncourse.grading.transport import ResultsError, encode_cases, read_results

CASES = [
    make_case("small", np.arange(6.0).reshape(2, 3), 2),
    make_case("ints", np.arange(4, dtype=np.int32), 0, scale=np.float32(1.5)),
    make_case("tuple arg", np.ones((1, 2)), (1, 2), flag=None),
]


class Matrixish(np.ndarray):
    pass


class Evil:
    def __eq__(self, other):
        return True


def _in_place(x, *args, **kwargs):
    x += 1
    return x.copy()


FUNCTIONS = {
    "array": lambda x, *a, **k: x * 2,
    "float32": lambda x, *a, **k: x.astype(np.float32),
    "tuple_of_arrays": lambda x, *a, **k: (x, x + 1),
    "shape_tuple": lambda x, *a, **k: x.shape,
    "list": lambda x, *a, **k: [1, 2],
    "int": lambda x, *a, **k: 3,
    "numpy_int": lambda x, *a, **k: np.int64(7),
    "numpy_float": lambda x, *a, **k: np.float32(0.5),
    "nan": lambda x, *a, **k: math.nan,
    "bool": lambda x, *a, **k: True,
    "none": lambda x, *a, **k: None,
    "subclass": lambda x, *a, **k: x.view(Matrixish),
    "evil": lambda x, *a, **k: Evil(),
    "object_array": lambda x, *a, **k: np.array([Evil()], dtype=object),
    "raises": lambda x, *a, **k: 1 / 0,
    "not_implemented": lambda x, *a, **k: (_ for _ in ()).throw(NotImplementedError("todo")),
    "in_place": _in_place,
}


def _transported(fn, tmp_path, kind="function"):
    (tmp_path / "cases").write_bytes(encode_cases(CASES))
    request = json.dumps({"kind": kind, "name": "f", "cases": str(tmp_path / "cases"),
                          "result": str(tmp_path / "results")})
    kernel_harness.run_exercise({"f": fn}, request)
    return read_results(tmp_path / "results", CASES)


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, tuple):
        return type(b) is tuple and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_transported_outcomes_equal_in_process_outcomes(name, tmp_path):
    results = _transported(FUNCTIONS[name], tmp_path)
    assert results.done and len(results.outcomes) == len(CASES)
    for case, got in zip(CASES, results.outcomes):
        want = call_case(FUNCTIONS[name], case)
        assert got.output_type == want.output_type
        assert got.error == want.error
        assert _same(got.output, want.output), (got.output, want.output)
        assert len(got.inputs_after) == len(want.inputs_after)
        assert all(_same(a, b) for a, b in zip(got.inputs_after, want.inputs_after))


def test_missing_and_not_callable_functions(tmp_path):
    (tmp_path / "cases").write_bytes(encode_cases(CASES))
    for namespace, field in (({}, "missing"), ({"f": 3}, "not_callable")):
        request = json.dumps({"kind": "function", "name": "f", "cases": str(tmp_path / "cases"),
                              "result": str(tmp_path / "results")})
        kernel_harness.run_exercise(namespace, request)
        results = read_results(tmp_path / "results", CASES)
        assert getattr(results, field) and not results.done and not results.outcomes


def test_a_prediction_is_read_not_called(tmp_path):
    results = _transported((5, 5), tmp_path, kind="prediction")
    assert results.outcomes[0].output == (5, 5) and results.outcomes[0].output_type == "tuple[int, int]"


def _rec(header, blob=b""):
    data = json.dumps(header).encode()
    return b"%d\n" % len(data) + data + blob


_CASE0 = {"case": 0, "error": None, "args": [], "kwargs": {}}


@pytest.mark.parametrize("data", [
    b"abc\n", b"5\n{\"a\"}", _rec({"done": 9}), _rec([]),
    _rec({"start": 0}) + _rec({**_CASE0, "value": {"k": "array", "dtype": "|O", "shape": [1],
                                                  "nbytes": 8}}, bytes(8)),
    _rec({"start": 0}) + _rec({**_CASE0, "value": {"k": "array", "dtype": "<f8", "shape": [9],
                                                  "nbytes": 8}}, bytes(8)),
    _rec({"start": 0}) + _rec({**_CASE0, "value": {"k": "pickle"}}),
    _rec({"start": 1}),
    _rec({"start": 0}) + _rec({**_CASE0, "case": 1, "value": {"k": "none"}}),
])
def test_malformed_results_are_refused(data, tmp_path):
    (tmp_path / "r").write_bytes(data)
    with pytest.raises(ResultsError):
        read_results(tmp_path / "r", CASES)


def test_a_record_cut_short_by_a_dying_kernel_names_the_running_case(tmp_path):
    (tmp_path / "r").write_bytes(b'12\n{"start": 0}40\n{"case": 0')
    results = read_results(tmp_path / "r", CASES)
    assert results.running == 0 and not results.done and not results.outcomes


def test_an_array_cut_short_by_the_file_size_limit_names_the_running_case(tmp_path):
    header = {**_CASE0, "value": {"k": "array", "dtype": "<f8", "shape": [4], "nbytes": 32}}
    (tmp_path / "r").write_bytes(_rec({"start": 0}) + _rec(header, bytes(8)))
    results = read_results(tmp_path / "r", CASES)
    assert results.running == 0 and not results.done and not results.outcomes


def _nb(cells):
    return nbformat.v4.new_notebook(cells=cells)


def _meta(grade_id, solution):
    return {"nbgrader": {"grade": not solution, "solution": solution, "grade_id": grade_id,
                         "points": 1, "schema_version": 3, "locked": not solution, "task": False}}


def test_only_the_learners_own_cells_run(tmp_path):
    code = nbformat.v4.new_code_cell
    source = _nb([code("import numpy as np\nimport torch"), code("demo = 1"),
                  code("def f(x):\n    return x", metadata=_meta("f-solution", True)),
                  code("check('f', f)", metadata=_meta("f", False))])
    nbformat.write(source, tmp_path / "lesson.ipynb")
    src = load_source(tmp_path / "lesson.ipynb")
    assert [t.grade_id for t in src.tests] == ["f"] and src.solution_ids == {"f-solution"}
    sub = _nb([code("import numpy as np\nimport torch"), code("demo = 1"), code("my = 2"),
               code("def f(x):\n    return np.zeros(1)", metadata=_meta("f-solution", True)),
               code("print('passed')", metadata=_meta("f", False)),
               code("print('passed')", metadata={"nbgrader": {"grade": True, "solution": False,
                                                               "grade_id": "other"}})])
    chosen = learner_cells(src, json.loads(nbformat.writes(sub)))
    assert [(c.index, c.role) for c in chosen] == [(2, "added"), (3, "solution")]
    assert prune_setup(src.setup, [c.source for c in chosen]) == "import numpy as np"


@pytest.mark.parametrize("data, reason", [
    (None, "no notebook"), (b"{not json", "not valid JSON"), (b"[1, 2]", "not a Jupyter notebook"),
    (b'{"cells": [], "nbformat": 3}', "version 4"),
])
def test_unreadable_submissions_say_why(data, reason):
    with pytest.raises(SubmissionError, match=reason):
        parse_submission(data)


def test_find_submissions_accepts_flat_and_nbgrader_layouts(tmp_path):
    (tmp_path / "submitted" / "ann" / "ps1").mkdir(parents=True)
    (tmp_path / "submitted" / "ann" / "ps1" / "l1.ipynb").write_text("{}")
    (tmp_path / "submitted" / "bob").mkdir()
    (tmp_path / "submitted" / "bob" / "l1.ipynb").write_text("{}")
    (tmp_path / "submitted" / "cy").mkdir()
    found = find_submissions(tmp_path, ["l1"])
    assert found["ann"]["l1"].path.parent.name == "ps1" and found["bob"]["l1"].path.name == "l1.ipynb"
    assert found["ann"]["l1"].data == b"{}" and found["cy"]["l1"].data is None
    assert found["cy"]["l1"].problem == "no notebook submitted"


def test_journal_resumes_and_skips_a_line_cut_short(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    row = Row("ann", "l1", "f", 1.0, 2.0, "failed", "✗ f\nsecond line")
    journal.append("ann", "l1", "k1", [row], ["a note"])
    journal.close()
    with open(tmp_path / "journal.jsonl", "a") as f:
        f.write('{"student": "bob", "lesson": "l1", "ke')
    done = Journal(tmp_path / "journal.jsonl").load()
    assert list(done) == [("ann", "l1")] and done[("ann", "l1")]["rows"] == [row]
    assert done[("ann", "l1")]["notes"] == ["a note"]


def test_journal_lines_without_the_keys_hmac_are_rejected(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append("ann", "l1", "k1", [Row("ann", "l1", "f", 0.0, 2.0, "failed", "✗ f")])
    journal.close()
    assert (tmp_path / ".journal-key").stat().st_mode & 0o777 == 0o600
    line = json.loads((tmp_path / "journal.jsonl").read_text())
    line["rows"][0]["points"] = 2.0  # an edit keeps the old HMAC
    forged = {**line, "student": "bob", "mac": "f" * 64}
    (tmp_path / "journal.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(forged) + "\n")
    reread = Journal(tmp_path / "journal.jsonl")
    assert reread.load() == {} and reread.rejected == 2
    (tmp_path / ".journal-key").write_text("0" * 64)  # another key: nothing vouches any more
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append("cy", "l1", "k", [])
    journal.close()
    assert list(Journal(tmp_path / "journal.jsonl").load()) == [("cy", "l1")]


def test_gradebook_is_written_atomically_with_short_messages(tmp_path):
    path = tmp_path / "gradebook.csv"
    write_atomic(path, "old")
    write_gradebook(path, [Row("ann", "l1", "f", 1.0, 2.0, "failed", "✗ f: 1 of 3 fail\nmore")])
    text = path.read_text()
    assert text.splitlines() == ["student,lesson,exercise,points,max_points,status,message",
                                 "ann,l1,f,1,2,failed,✗ f: 1 of 3 fail"]
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]


def test_grade_command_refuses_an_out_file_and_takes_a_lesson_file_name(tmp_path, monkeypatch, capsys):
    from cnncourse import cli
    from cnncourse.grading import batch

    (tmp_path / "subs" / "alice").mkdir(parents=True)
    out_file = tmp_path / "grades.csv"
    out_file.write_text("keep me")
    assert cli.main(["grade", str(tmp_path / "subs"), "--out", str(out_file), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--out must be a folder" in err and "grades.csv" in err
    assert out_file.read_text() == "keep me"

    seen = {}
    monkeypatch.setattr(batch, "grade", lambda *args, lessons=None, **kwargs: seen.setdefault("l", lessons) and [])
    assert cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "o"), "--no-progress",
                     "--lessons", "notebooks/02_convolution.ipynb", "03_pooling"]) == 0
    assert seen["l"] == ["02_convolution", "03_pooling"]


def test_an_out_folder_inside_the_submissions_is_not_graded_as_a_student(tmp_path):
    from cnncourse.grading.batch import grade

    source = Path(__file__).parent / "fixtures" / "lessons"
    (tmp_path / "subs" / "dave").mkdir(parents=True)
    (tmp_path / "subs" / "dave" / "90_fixture.ipynb").write_text("{ not JSON")
    out = tmp_path / "subs" / "grades"
    for _ in range(2):  # the second run finds out/ among the student folders
        rows = grade(tmp_path / "subs", out, source_dir=source, progress=False, sandbox=False)
        assert {r.student for r in rows} == {"dave"} and all(r.status == "invalid" for r in rows)


def test_a_temporary_folder_too_deep_for_the_kernels_sockets_falls_back_to_tmp(tmp_path, monkeypatch):
    deep = tmp_path / ("d" * MAX_TMP_PATH)
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    warnings = []
    root = _temporary_root(warnings)
    try:
        assert root.parent == Path("/tmp") and "this run used /tmp" in warnings[0]
    finally:
        root.rmdir()
    short = Path(tempfile.mkdtemp(prefix="cgt-", dir="/tmp"))  # a TMPDIR that fits: used silently
    try:
        assert len(str(short)) <= MAX_TMP_PATH
        monkeypatch.setattr(tempfile, "tempdir", str(short))
        warnings = []
        root = _temporary_root(warnings)
        assert root.parent == short and warnings == []
        root.rmdir()
    finally:
        short.rmdir()

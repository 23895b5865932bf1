"""Tests of cnncourse.notebook_tools: the learner's version of a lesson, the exercise convention
of every lesson, and where the lessons are found.

They run on the fixture lesson in tests/fixtures/lessons/ and on whatever lessons exist in
notebooks/, so they hold while lessons are being added.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from cnncourse.checks import get_exercise
from cnncourse.notebook_tools import (
    exercise_cells,
    lesson_paths,
    lessons_dir,
    read_notebook,
    student_version,
)

FIXTURES = Path(__file__).parent / "fixtures" / "lessons"
FIXTURE = FIXTURES / "90_fixture.ipynb"
LESSONS = lesson_paths(Path(__file__).parents[1] / "notebooks")
CODE_STUB = re.compile(r'^(\s+)raise NotImplementedError\("exercise (\w+): replace this line with your code"\)$')
VALUE_STUB = re.compile(r"^()(\w+) = \.\.\.$")


def test_student_version_of_the_fixture():
    nb = read_notebook(FIXTURE)
    before = json.dumps(nb, sort_keys=True)
    student = student_version(nb)
    assert json.dumps(nb, sort_keys=True) == before, "the complete notebook is not modified"
    sources = [c.source for c in student.cells]
    assert len(student.cells) == len(nb.cells)
    # a solution region inside a function body keeps the indentation of its marker
    assert '    raise NotImplementedError("exercise conv_output_size: replace this line with your code")' in sources[6]
    assert sources[6].startswith("def conv_output_size(") and "span" not in sources[6]
    # a region nested in two loops: code before and after it stays
    assert '            raise NotImplementedError("exercise correlate2d:' in sources[9]
    assert sources[9].rstrip().endswith("return out")
    # a prediction, a region at the left margin: a value that is read as "not answered yet"
    assert sources[3] == "q03_pool_params = ..."
    # hidden tests gone, visible test kept
    assert sources[7] == 'check("conv_output_size", conv_output_size);'
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert [c.metadata for c in student.cells] == [c.metadata for c in nb.cells]


def test_student_stubs_do_not_raise_when_their_cell_runs():
    student = student_version(read_notebook(FIXTURE))
    namespace = {}
    for cell in student.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            exec(cell.source, namespace)  # defines the functions, sets the prediction to ...
    assert namespace["q03_pool_params"] is Ellipsis
    with pytest.raises(NotImplementedError, match="exercise conv_output_size"):
        namespace["conv_output_size"](5, 3)


def test_a_solution_cell_without_markers_becomes_a_value_stub():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("answer = 42", metadata={"nbgrader": {
            "solution": True, "grade": False, "grade_id": "answer-solution"}}),
        nbformat.v4.new_markdown_cell("Because ...", metadata={"nbgrader": {
            "solution": True, "grade": False, "grade_id": "why"}})])
    student = student_version(nb)
    assert [c.source for c in student.cells] == ["answer = ...", "YOUR ANSWER HERE"]


def test_student_version_refuses_an_unclosed_region():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "### BEGIN SOLUTION\nx = 1", metadata={"nbgrader": {"solution": True, "grade_id": "x-solution"}})])
    with pytest.raises(ValueError, match="END SOLUTION"):
        student_version(nb)


def test_student_version_names_a_marker_outside_a_solution_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "Write your code between the lines\n### BEGIN SOLUTION\nand END.")])
    with pytest.raises(ValueError, match="cell 0 .markdown. contains 'BEGIN SOLUTION'"):
        student_version(nb)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lessons_follow_the_exercise_convention(path):
    nb = read_notebook(path)
    cells = exercise_cells(nb)
    tests = [c for c in cells if c.role == "test"]
    solutions = {c.exercise for c in cells if c.role == "solution"}
    for cell in tests:
        exercise = get_exercise(cell.grade_id)  # every test cell's id is a registered exercise
        assert exercise.lesson == path.stem
        assert exercise.function == exercise.id, "the name the learner defines is the exercise id"
        assert cell.points == exercise.points, f"{cell.grade_id}: points differ from the check's"
        assert cell.exercise in solutions, f"{cell.grade_id} has no solution cell"
        call = "check_prediction" if exercise.kind == "prediction" else "check"
        assert f'{call}("{cell.grade_id}", {exercise.function}' in cell.source
    student = student_version(nb)
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    for cell in exercise_cells(student):
        if cell.role == "solution":  # a function's stub raises when called, a value's is `...`
            stub = CODE_STUB if get_exercise(cell.exercise).kind == "function" else VALUE_STUB
            found = [m.group(2) for m in map(stub.match, cell.source.splitlines()) if m]
            assert found == [cell.exercise], cell.source


def test_lessons_dir_finds_the_repository_notebooks(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNCOURSE_NOTEBOOKS", raising=False)
    if LESSONS:
        assert lessons_dir() == LESSONS[0].parent
    monkeypatch.setenv("CNNCOURSE_NOTEBOOKS", str(tmp_path))
    assert lessons_dir() == tmp_path

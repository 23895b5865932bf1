"""Tests of the student versions (cnncourse.notebook_tools) and the learner workspace
(cnncourse.workspace: `cnncourse start` and `cnncourse progress`).

They run on the fixture lesson in tests/fixtures/lessons/ and on whatever lessons exist in
notebooks/, so they hold while lessons are being added.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from cnncourse import cli, workspace
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
STUB = re.compile(r'^(\s*)raise NotImplementedError\("exercise (\w+): replace this line with your code"\)$')


# ------------------------------------------------------------------ student versions
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
    # a prediction: the whole cell is the region
    assert sources[3] == 'raise NotImplementedError("exercise q03_pool_params: replace this line with your code")'
    # hidden tests gone, visible test kept
    assert sources[7] == 'check("conv_output_size", conv_output_size);'
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert [c.metadata for c in student.cells] == [c.metadata for c in nb.cells]


def test_student_version_refuses_an_unclosed_region():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "### BEGIN SOLUTION\nx = 1", metadata={"nbgrader": {"solution": True, "grade_id": "x-solution"}})])
    with pytest.raises(ValueError, match="END SOLUTION"):
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
        assert cell.points == exercise.points, f"{cell.grade_id}: points differ from the check's"
        assert cell.exercise in solutions, f"{cell.grade_id} has no solution cell"
        call = "check_prediction" if exercise.kind == "prediction" else "check"
        assert f'{call}("{cell.grade_id}", {exercise.function}' in cell.source
    student = student_version(nb)
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    for cell in exercise_cells(student):
        if cell.role == "solution":
            stubs = [STUB.match(line) for line in cell.source.splitlines()]
            assert [m.group(2) for m in stubs if m] == [cell.exercise], cell.source


def test_lessons_dir_finds_the_repository_notebooks(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNCOURSE_NOTEBOOKS", raising=False)
    if LESSONS:
        assert lessons_dir() == LESSONS[0].parent
    monkeypatch.setenv("CNNCOURSE_NOTEBOOKS", str(tmp_path))
    assert lessons_dir() == tmp_path


# ------------------------------------------------------------------ start
def _lessons(tmp_path, *names):
    """A folder of complete lessons copied from the fixture under the given names."""
    folder = tmp_path / "course"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(FIXTURE, folder / name)
    return folder


def test_start_writes_student_versions_and_never_overwrites(tmp_path):
    course = _lessons(tmp_path, "01_first.ipynb", "02_second.ipynb")
    work = tmp_path / "work"
    report = workspace.start(work, source=course)
    assert report.written == ["01_first.ipynb", "02_second.ipynb"]
    first = read_notebook(work / "01_first.ipynb")
    assert first.cells[3].source.startswith("raise NotImplementedError")

    # the learner works on lesson 1
    first.cells[3].source = "q03_pool_params = 4"
    nbformat.write(first, str(work / "01_first.ipynb"))
    again = workspace.start(work, source=course)
    assert again.written == [] and again.updated_beside == []
    assert sorted(again.unchanged) == ["01_first.ipynb", "02_second.ipynb"]
    assert read_notebook(work / "01_first.ipynb").cells[3].source == "q03_pool_params = 4"

    # the course is updated: lesson 1 changes, lesson 3 appears
    updated = read_notebook(course / "01_first.ipynb")
    updated.cells[0].source += "\n\nA new paragraph."
    nbformat.write(updated, str(course / "01_first.ipynb"))
    shutil.copy(FIXTURE, course / "03_third.ipynb")
    update = workspace.start(work, source=course)
    assert update.written == ["03_third.ipynb"]
    assert len(update.updated_beside) == 1
    beside = update.updated_beside[0]
    assert re.fullmatch(r"01_first\.new-\d{4}-\d\d-\d\d\.ipynb", beside)
    assert read_notebook(work / beside).cells[0].source.endswith("A new paragraph.")
    assert read_notebook(work / "01_first.ipynb").cells[3].source == "q03_pool_params = 4"
    # nothing more on a further run, and the .new file is not taken for a lesson
    final = workspace.start(work, source=course)
    assert final.written == [] and final.updated_beside == []
    assert [p.name for p in lesson_paths(work)] == ["01_first.ipynb", "02_second.ipynb", "03_third.ipynb"]


def test_start_keeps_a_foreign_file_with_a_lesson_name(tmp_path):
    course = _lessons(tmp_path, "01_first.ipynb")
    work = tmp_path / "work"
    work.mkdir()
    (work / "01_first.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    report = workspace.start(work, source=course)
    assert report.written == [] and len(report.updated_beside) == 1
    assert read_notebook(work / "01_first.ipynb").cells == []


def test_cli_start_with_and_without_lab(tmp_path, monkeypatch, capsys):
    course = _lessons(tmp_path, "01_first.ipynb")
    monkeypatch.setenv("CNNCOURSE_NOTEBOOKS", str(course))
    launched = []
    monkeypatch.setattr(workspace.subprocess, "call", lambda cmd, cwd: launched.append((cmd, cwd)) or 0)
    assert cli.main(["start", str(tmp_path / "w1"), "--no-lab"]) == 0
    assert launched == [] and (tmp_path / "w1" / "01_first.ipynb").exists()
    assert "new      01_first.ipynb" in capsys.readouterr().out
    monkeypatch.setattr(workspace.os, "geteuid", lambda: 1000, raising=False)
    assert cli.main(["start", str(tmp_path / "w2")]) == 0
    (command, cwd), = launched
    assert "lab" in command[-1] and Path(cwd) == tmp_path / "w2"


def test_cli_start_as_root_allows_root(tmp_path, monkeypatch, capsys):
    # JupyterLab refuses to run as root unless told; containers often run as root.
    monkeypatch.setenv("CNNCOURSE_NOTEBOOKS", str(_lessons(tmp_path, "01_first.ipynb")))
    launched = []
    monkeypatch.setattr(workspace.subprocess, "call", lambda cmd, cwd: launched.append(cmd) or 0)
    monkeypatch.setattr(workspace.os, "geteuid", lambda: 0, raising=False)
    assert cli.main(["start", str(tmp_path / "w")]) == 0
    (command,) = launched
    assert command[-1] == "--allow-root" and "lab" in command[-2]
    assert "--allow-root" in capsys.readouterr().out


# ------------------------------------------------------------------ progress
def _broken(nb):
    """The fixture with a kernel-flipped correlate2d and a wrong prediction."""
    nb = student_version(nb)
    nb.cells[3].source = "q03_pool_params = 4"
    nb.cells[6].source = read_notebook(FIXTURE).cells[6].source
    nb.cells[9].source = nb.cells[9].source.replace(
        'raise NotImplementedError("exercise correlate2d: replace this line with your code")',
        "out[i, j] = np.sum(image[i:i + KH, j:j + KW] * kernel[::-1, ::-1])")
    return nb


@pytest.mark.slow
def test_progress_runs_each_notebook_and_reports_each_exercise(tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    complete = read_notebook(FIXTURE)
    nbformat.write(complete, str(work / "01_solved.ipynb"))
    nbformat.write(student_version(complete), str(work / "02_blank.ipynb"))
    nbformat.write(_broken(complete), str(work / "03_broken.ipynb"))
    results = workspace.progress(work, timeout=60, show_progress=False)
    table = {(r.lesson, r.exercise): r for r in results}
    assert len(results) == 9
    assert all(table["01_solved", e].passed for e in ("q03_pool_params", "conv_output_size", "correlate2d"))
    blank = [table["02_blank", e] for e in ("q03_pool_params", "conv_output_size", "correlate2d")]
    assert not any(r.passed for r in blank)
    assert all("not done yet" in r.message for r in blank)
    assert table["03_broken", "conv_output_size"].passed
    assert "[kernel_flipped]" in table["03_broken", "correlate2d"].message
    assert "not quite" in table["03_broken", "q03_pool_params"].message

    text = workspace.format_table(results)
    assert text.splitlines()[0].split() == ["lesson", "exercise", "result", "message"]
    assert "4 of 9 exercises passed, 5 of 12 points." in text
    capsys.readouterr()
    monkeypatch.setattr(workspace, "progress", lambda directory, **kwargs: results)
    assert cli.main(["progress", str(work), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == text.strip() and err == ""


def test_progress_without_workspace_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="cnncourse start"):
        workspace.progress(tmp_path / "missing", show_progress=False)


# ------------------------------------------------------------------ what a learner does wrong
def _error(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def test_progress_command_without_workspace_prints_a_message_not_a_traceback(tmp_path, capsys):
    missing = tmp_path / "my work"
    assert cli.main(["progress", str(missing), "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and f"cnncourse start '{missing}'" in err


def test_start_on_a_file_and_progress_with_no_timeout_are_refused(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    assert cli.main(["start", str(a_file), "--no-lab"]) == 2
    assert cli.main(["progress", str(tmp_path), "--timeout", "0"]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "--timeout" in err and "(got 0)" in err
    assert a_file.read_text() == "mine"


def test_results_name_a_failed_definition_and_an_interrupted_cell():
    nb = read_notebook(FIXTURE)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = 1, []
    nb.cells[3].outputs = [_error("SyntaxError", "incomplete input (123.py, line 1)")]
    nb.cells[4].outputs = [_error("NameError", "name 'q03_pool_params' is not defined")]
    nb.cells[7].outputs = [_error("KeyboardInterrupt", "")]
    nb.cells[10].outputs = [_error("NameError", "name 'correlate2d' is not defined")]
    table = {r.exercise: r.message for r in workspace.results_of(nb, "90_fixture")}
    assert table["q03_pool_params"].startswith("the cell that defines it failed: SyntaxError")
    assert "longer than the time allowed" in table["conv_output_size"]
    assert "not done yet, or renamed?" in table["correlate2d"]


def test_progress_reports_a_deleted_test_cell(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    nb = student_version(read_notebook(FIXTURE))
    del nb.cells[10]  # the test cell of correlate2d
    nbformat.write(nb, str(work / FIXTURE.name))
    monkeypatch.setattr(workspace, "run_notebook", lambda path, **kwargs: read_notebook(path))
    results = workspace.progress(work, show_progress=False, source=FIXTURES)
    missing = [r for r in results if r.exercise == "correlate2d"]
    assert len(results) == 3 and len(missing) == 1 and not missing[0].passed
    assert "test cell missing" in missing[0].message and missing[0].points > 0


@pytest.mark.slow
def test_progress_goes_on_after_an_endless_loop(tmp_path):
    work = tmp_path / "with spaces"
    work.mkdir()
    nb = read_notebook(FIXTURE)
    nb.cells[6].source = "def conv_output_size(*args, **kwargs):\n    while True:\n        pass\n"
    nbformat.write(nb, str(work / FIXTURE.name))
    table = {r.exercise: r for r in workspace.progress(work, timeout=3, show_progress=False)}
    assert "longer than the time allowed" in table["conv_output_size"].message
    assert table["correlate2d"].passed and table["q03_pool_params"].passed


def test_start_writes_again_a_lesson_the_learner_deleted(tmp_path):
    work = tmp_path / "work"
    workspace.start(work, source=FIXTURES)
    (work / FIXTURE.name).unlink()
    report = workspace.start(work, source=FIXTURES)
    assert report.written == [FIXTURE.name] and (work / FIXTURE.name).exists()
    assert workspace.start(work, source=FIXTURES).unchanged == [FIXTURE.name]


def test_progress_reports_a_notebook_that_is_not_json_and_goes_on(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / FIXTURE.name).write_text("{ not JSON")
    nbformat.write(student_version(read_notebook(FIXTURE)), str(work / "91_other.ipynb"))
    monkeypatch.setattr(workspace, "run_notebook", lambda path, **kwargs: read_notebook(path))
    results = workspace.progress(work, show_progress=False, source=FIXTURES)
    broken = [r for r in results if r.lesson == FIXTURE.stem]
    assert len(broken) == 3 and all("cannot read" in r.message and not r.passed for r in broken)
    assert len([r for r in results if r.lesson == "91_other"]) == 3

"""Tests of cnncourse.progress (`cnncourse progress`): each lesson of a workspace runs in its own
kernel, every exercise is reported passed / failed / not done from the verdicts its checks show
as data, the table fits the terminal without cutting a message, and whole messages are there
with --full and --exercise."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from cnncourse import cli, progress, workspace
from cnncourse.notebook_tools import read_notebook, student_version

FIXTURES = Path(__file__).parent / "fixtures" / "lessons"
FIXTURE = FIXTURES / "90_fixture.ipynb"

EXERCISES = ("q03_pool_params", "conv_output_size", "correlate2d")


def _broken(nb):
    """The fixture with a kernel-flipped correlate2d and a wrong prediction."""
    nb = student_version(nb)
    nb.cells[3].source = "q03_pool_params = 4"
    nb.cells[6].source = read_notebook(FIXTURE).cells[6].source
    nb.cells[9].source = nb.cells[9].source.replace(
        'raise NotImplementedError("exercise correlate2d: replace this line with your code")',
        "out[i, j] = np.sum(image[i:i + KH, j:j + KW] * kernel[::-1, ::-1])")
    return nb


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A workspace with the fixture solved, blank and broken, run once for several tests."""
    work = tmp_path_factory.mktemp("progress") / "work"
    workspace.start(work, source=FIXTURES)  # a real workspace (manifest included)
    complete = read_notebook(FIXTURE)
    nbformat.write(complete, str(work / "01_solved.ipynb"))
    nbformat.write(student_version(complete), str(work / "02_blank.ipynb"))
    nbformat.write(_broken(complete), str(work / "03_broken.ipynb"))
    (work / FIXTURE.name).unlink()
    return work, progress.progress(work, timeout=60, show_progress=False, source=FIXTURES)


@pytest.mark.slow
def test_progress_runs_each_notebook_and_reports_each_exercise(results):
    _, found = results
    table = {(r.lesson, r.exercise): r for r in found}
    assert len(found) == 9
    assert all(table["01_solved", e].status == "passed" for e in EXERCISES)
    blank = [table["02_blank", e] for e in EXERCISES]
    assert [r.status for r in blank] == ["not done"] * 3
    assert "not answered yet" in blank[0].summary and "not done yet" in blank[1].summary
    assert table["03_broken", "conv_output_size"].status == "passed"
    broken = table["03_broken", "correlate2d"]
    assert broken.status == "failed" and "[kernel_flipped]" in broken.summary
    assert "What to look at:" in broken.summary and "Smallest failing case" not in broken.summary
    assert "Smallest failing case" in broken.message and "yours (shape" in broken.message
    assert table["03_broken", "q03_pool_params"].status == "failed"
    assert "not quite" in table["03_broken", "q03_pool_params"].summary


@pytest.mark.slow
@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_table_fits_the_terminal_and_cuts_no_message(results, width):
    _, found = results
    text = progress.format_table(found, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    squeezed = "".join(text.split())
    for r in found:  # every message is there whole, only wrapped
        assert "".join(r.summary.split()) in squeezed
    assert "…" not in text and text.splitlines()[0].split() == ["exercise", "status", "message"]
    assert " ".join(text.split()).endswith(
        "4 of 9 exercises passed (4 passed, 2 failed, 3 not done), 5 of 12 points.")


@pytest.mark.slow
def test_cli_progress_inside_the_workspace_full_and_one_exercise(results, monkeypatch, capsys):
    work, found = results
    monkeypatch.setattr(progress, "progress", lambda directory, **kwargs: found)
    monkeypatch.chdir(work)  # JupyterLab's terminal opens in the workspace
    assert cli.main(["progress", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(progress.format_table(found)) and "--full" in out
    monkeypatch.setenv("COLUMNS", "60")  # a narrow terminal: the table and the hint below it fit
    assert cli.main(["progress", "--quiet"]) == 0
    assert max(map(len, capsys.readouterr().out.splitlines())) <= 60
    assert cli.main(["progress", "--quiet", "--full"]) == 0
    out = capsys.readouterr().out
    assert out.count("── ") == 5 and "yours (shape" in out  # the 5 that did not pass
    assert cli.main(["progress", "--quiet", "--exercise", "correlate2d"]) == 0
    out = capsys.readouterr().out
    assert "Smallest failing case" in out and out.count("── ") == 3


def test_cli_progress_outside_a_workspace_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["progress", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "not inside a workspace" in err and "cnncourse progress DIR" in err and "Traceback" not in err


def test_progress_command_without_workspace_prints_a_message_not_a_traceback(tmp_path, capsys):
    missing = tmp_path / "my work"
    assert cli.main(["progress", str(missing), "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and f"cnncourse start '{missing}'" in err


def test_progress_refuses_a_timeout_of_zero_and_an_unknown_exercise(tmp_path, capsys):
    workspace.start(tmp_path / "w", source=FIXTURES)
    assert cli.main(["progress", str(tmp_path / "w"), "--timeout", "0"]) == 2
    assert cli.main(["progress", str(tmp_path / "w"), "--exercise", "conv3d"]) == 2
    err = capsys.readouterr().err
    assert "--timeout" in err and "(got 0)" in err and "'conv3d'" in err


def _error(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def test_results_name_a_failed_definition_an_interrupted_cell_and_a_raising_check():
    nb = read_notebook(FIXTURE)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = 1, []
    nb.cells[3].outputs = [_error("SyntaxError", "incomplete input (123.py, line 1)")]
    nb.cells[4].outputs = [_error("NameError", "name 'q03_pool_params' is not defined")]
    nb.cells[7].outputs = [_error("KeyboardInterrupt", "")]
    nb.cells[10].outputs = [_error("CheckFailed", "○ correlate2d: not done yet — replace ...")]
    table = {r.exercise: r for r in progress.results_of(nb, "90_fixture")}
    assert table["q03_pool_params"].summary.startswith("the cell that defines it failed: SyntaxError")
    assert "longer than the time allowed" in table["conv_output_size"].summary
    assert table["correlate2d"].status == "not done"
    assert table["correlate2d"].summary == "not done yet — replace ..."
    nb.cells[10].outputs = [_error("NameError", "name 'correlate2d' is not defined")]
    renamed = {r.exercise: r for r in progress.results_of(nb, "90_fixture")}["correlate2d"]
    assert renamed.status == "failed" and "deleted, or the name changed" in renamed.summary


def test_progress_reports_a_deleted_test_cell(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    nb = student_version(read_notebook(FIXTURE))
    del nb.cells[10]  # the test cell of correlate2d
    nbformat.write(nb, str(work / FIXTURE.name))
    monkeypatch.setattr(progress, "run_notebook", lambda path, **kwargs: read_notebook(path))
    results = progress.progress(work, show_progress=False, source=FIXTURES)
    missing = [r for r in results if r.exercise == "correlate2d"]
    assert len(results) == 3 and len(missing) == 1 and missing[0].status == "failed"
    assert "test cell missing" in missing[0].summary and missing[0].points > 0


@pytest.mark.slow
def test_progress_goes_on_after_an_endless_loop(tmp_path):
    work = tmp_path / "with spaces"
    work.mkdir()
    nb = read_notebook(FIXTURE)
    nb.cells[6].source = "def conv_output_size(*args, **kwargs):\n    while True:\n        pass\n"
    nbformat.write(nb, str(work / FIXTURE.name))
    table = {r.exercise: r for r in progress.progress(work, timeout=3, show_progress=False)}
    assert "longer than the time allowed" in table["conv_output_size"].summary
    assert table["correlate2d"].passed and table["q03_pool_params"].passed


def test_progress_reports_a_notebook_that_is_not_json_and_goes_on(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / FIXTURE.name).write_text("{ not JSON")
    nbformat.write(student_version(read_notebook(FIXTURE)), str(work / "91_other.ipynb"))
    monkeypatch.setattr(progress, "run_notebook", lambda path, **kwargs: read_notebook(path))
    results = progress.progress(work, show_progress=False, source=FIXTURES)
    broken = [r for r in results if r.lesson == FIXTURE.stem]
    assert len(broken) == 3 and all("cannot read" in r.summary and r.status == "failed" for r in broken)
    assert len([r for r in results if r.lesson == "91_other"]) == 3

"""Tests of cnncourse.workspace: `cnncourse start` writes the learner's workspace without ever
overwriting a file, finds the workspace it is run in, and starts JupyterLab with the right
arguments; `cnncourse progress` finds its workspace the same way."""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from cnncourse import cli, workspace
from cnncourse.notebook_tools import lesson_paths, read_notebook

FIXTURES = Path(__file__).parent / "fixtures" / "lessons"
FIXTURE = FIXTURES / "90_fixture.ipynb"
LAB = [sys.executable, "-m", "jupyterlab"]


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
    assert first.cells[3].source == "q03_pool_params = ..."

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


def test_start_writes_again_a_lesson_the_learner_deleted(tmp_path):
    work = tmp_path / "work"
    workspace.start(work, source=FIXTURES)
    (work / FIXTURE.name).unlink()
    report = workspace.start(work, source=FIXTURES)
    assert report.written == [FIXTURE.name] and (work / FIXTURE.name).exists()
    assert workspace.start(work, source=FIXTURES).unchanged == [FIXTURE.name]


def test_find_workspace_walks_up_to_the_manifest(tmp_path):
    work = tmp_path / "work"
    workspace.start(work, source=FIXTURES)
    deep = work / "notes" / "day 1"
    deep.mkdir(parents=True)
    assert workspace.find_workspace(deep) == work.resolve()
    assert workspace.find_workspace(work) == work.resolve()
    assert workspace.find_workspace(tmp_path) is None


@pytest.fixture
def no_lab(monkeypatch):
    """JupyterLab is not started: the commands it would run are recorded."""
    launched = []
    monkeypatch.setattr(workspace.subprocess, "call", lambda cmd, cwd: launched.append((cmd, cwd)) or 0)
    monkeypatch.setattr(workspace.os, "geteuid", lambda: 1000, raising=False)
    return launched


def test_cli_start_with_and_without_lab(tmp_path, monkeypatch, capsys, no_lab):
    monkeypatch.setenv("CNNCOURSE_NOTEBOOKS", str(_lessons(tmp_path, "01_first.ipynb")))
    assert cli.main(["start", str(tmp_path / "w1"), "--no-lab"]) == 0
    assert no_lab == [] and (tmp_path / "w1" / "01_first.ipynb").exists()
    assert "new      01_first.ipynb" in capsys.readouterr().out
    assert cli.main(["start", str(tmp_path / "w2")]) == 0
    (command, cwd), = no_lab
    assert command == LAB and Path(cwd) == tmp_path / "w2"
    out = capsys.readouterr().out
    assert "keeps it busy" in out and "Ctrl-C twice" in out


def test_cli_start_passes_port_and_no_browser(tmp_path, monkeypatch, no_lab):
    monkeypatch.setenv("CNNCOURSE_NOTEBOOKS", str(_lessons(tmp_path, "01_first.ipynb")))
    assert cli.main(["start", str(tmp_path / "w"), "--port", "8899", "--no-browser"]) == 0
    (command, _), = no_lab
    assert command == LAB + ["--port=8899", "--no-browser"]


def test_cli_start_as_root_allows_root(tmp_path, monkeypatch, capsys, no_lab):
    # JupyterLab refuses to run as root unless told; containers often run as root.
    monkeypatch.setenv("CNNCOURSE_NOTEBOOKS", str(_lessons(tmp_path, "01_first.ipynb")))
    monkeypatch.setattr(workspace.os, "geteuid", lambda: 0, raising=False)
    assert cli.main(["start", str(tmp_path / "w")]) == 0
    (command, _), = no_lab
    assert command == LAB + ["--allow-root"]
    assert "--allow-root" in capsys.readouterr().out


def test_cli_start_stopped_with_ctrl_c_says_nothing_more(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNCOURSE_NOTEBOOKS", str(_lessons(tmp_path, "01_first.ipynb")))

    def interrupted(cmd, cwd):
        raise KeyboardInterrupt
    monkeypatch.setattr(workspace.subprocess, "call", interrupted)
    assert cli.main(["start", str(tmp_path / "w")]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_cli_start_inside_a_workspace_updates_it_instead_of_nesting_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNCOURSE_NOTEBOOKS", str(_lessons(tmp_path, "01_first.ipynb")))
    work = tmp_path / "work"
    assert cli.main(["start", str(work), "--no-lab"]) == 0
    (work / "01_first.ipynb").unlink()
    monkeypatch.chdir(work)  # where JupyterLab's terminal opens
    assert cli.main(["start", "--no-lab"]) == 0
    assert not (work / workspace.DEFAULT_DIR).exists() and (work / "01_first.ipynb").exists()
    assert "inside the workspace" in capsys.readouterr().out


def test_start_on_a_file_is_refused(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    assert cli.main(["start", str(a_file), "--no-lab"]) == 2
    assert "notes.txt" in capsys.readouterr().err and a_file.read_text() == "mine"
